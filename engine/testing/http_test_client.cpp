#include "http_test_client.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <functional>
#include <cctype>
#include <optional>
#include <stdexcept>

namespace nurt::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpTestClient::Impl {
  asio::io_context ioc;
  tcp::socket socket{ioc};
  beast::flat_buffer buffer;
  std::chrono::milliseconds timeout;
  std::uint16_t port = 0;
  bool head_pending = false;  // the next response answers HEAD: it has no body whatever its headers say

  // Runs the io_context until the started operation completes or the timeout passes (then cancels).
  void RunWithTimeout(const char* what, const bool& done) {
    ioc.restart();
    ioc.run_for(timeout);
    if (!done) {
      beast::error_code ignored;
      socket.cancel(ignored);
      ioc.restart();
      ioc.run();
      throw std::runtime_error(std::string("HttpTestClient: ") + what + " on port " + std::to_string(port) +
                               " did not finish within " + std::to_string(timeout.count()) + " ms");
    }
  }
};

std::string HttpTestClient::Response::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return "";
}

HttpTestClient::HttpTestClient(std::uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->timeout = timeout;
  impl_->port = port;
  bool done = false;
  beast::error_code result;
  impl_->socket.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                              [&](beast::error_code ec) {
                                result = ec;
                                done = true;
                              });
  impl_->RunWithTimeout("connect", done);
  if (result) {
    throw std::runtime_error("HttpTestClient: cannot connect to 127.0.0.1:" + std::to_string(port) + ": " +
                             result.message());
  }
}

HttpTestClient::~HttpTestClient() {
  beast::error_code ignored;
  impl_->socket.close(ignored);
}

bool HttpTestClient::CanConnect(std::uint16_t port) {
  try {
    HttpTestClient client(port, std::chrono::seconds(5));
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

HttpTestClient::Response HttpTestClient::Request(std::string_view method, std::string_view target,
                                                 std::string_view body,
                                                 const std::vector<std::pair<std::string, std::string>>& headers) {
  http::request<http::string_body> request;
  request.method_string(method);
  request.target(target);
  request.version(11);
  for (const auto& [name, value] : headers) request.insert(name, value);
  if (request.find(http::field::host) == request.end()) request.set(http::field::host, "127.0.0.1");
  request.body() = std::string(body);
  if (!body.empty() && request.find(http::field::content_length) == request.end() &&
      request.find(http::field::transfer_encoding) == request.end()) {
    request.prepare_payload();
  }
  bool done = false;
  beast::error_code result;
  http::async_write(impl_->socket, request, [&](beast::error_code ec, std::size_t) {
    result = ec;
    done = true;
  });
  impl_->RunWithTimeout("writing the request", done);
  if (result) throw std::runtime_error("HttpTestClient: writing the request failed: " + result.message());
  impl_->head_pending = method == "HEAD";
  return ReadResponse();
}

void HttpTestClient::SendRaw(std::string_view bytes) {
  bool done = false;
  beast::error_code result;
  asio::async_write(impl_->socket, asio::buffer(bytes.data(), bytes.size()),
                    [&](beast::error_code ec, std::size_t) {
                      result = ec;
                      done = true;
                    });
  impl_->RunWithTimeout("writing raw bytes", done);
  if (result) throw std::runtime_error("HttpTestClient: writing raw bytes failed: " + result.message());
}

HttpTestClient::Response HttpTestClient::ReadResponse() {
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  parser.skip(impl_->head_pending);
  impl_->head_pending = false;
  bool done = false;
  beast::error_code result;
  http::async_read(impl_->socket, impl_->buffer, parser, [&](beast::error_code ec, std::size_t) {
    result = ec;
    done = true;
  });
  impl_->RunWithTimeout("reading the response", done);
  if (result) throw std::runtime_error("HttpTestClient: reading the response failed: " + result.message());
  Response response;
  response.status = static_cast<int>(parser.get().result_int());
  for (const auto& field : parser.get()) {
    response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  response.body = std::move(parser.get().body());
  return response;
}

bool HttpTestClient::WaitForClose(std::chrono::milliseconds within) {
  impl_->buffer.clear();
  std::array<char, 4096> scratch;
  bool closed = false;
  bool done = false;
  std::function<void()> read_some = [&] {
    impl_->socket.async_read_some(asio::buffer(scratch), [&](beast::error_code ec, std::size_t) {
      if (ec) {
        closed = ec != asio::error::operation_aborted;
        done = true;
        return;
      }
      read_some();
    });
  };
  read_some();
  impl_->ioc.restart();
  impl_->ioc.run_for(within);
  if (!done) {
    beast::error_code ignored;
    impl_->socket.cancel(ignored);
    impl_->ioc.restart();
    impl_->ioc.run();
  }
  return closed;
}

}  // namespace nurt::testing
