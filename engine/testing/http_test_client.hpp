#pragma once
// A blocking HTTP/1.1 client for server tests: one keep-alive connection to 127.0.0.1:port.
//
// Every call waits at most `timeout` (default 10 s) and throws std::runtime_error when the server does
// not answer in time, answers garbage or closes — so a broken server fails a test (GoogleTest reports the
// exception) instead of hanging it. Not thread-safe: one client per thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nurt::testing {

class HttpTestClient {
 public:
  struct Response {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    // First header with this name (case-insensitive); "" when absent.
    std::string Header(std::string_view name) const;
  };

  // Connects now; throws std::runtime_error when the connection is refused or times out.
  explicit HttpTestClient(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpTestClient();
  HttpTestClient(const HttpTestClient&) = delete;
  HttpTestClient& operator=(const HttpTestClient&) = delete;

  // Whether a new TCP connection to 127.0.0.1:port is accepted (false when refused).
  static bool CanConnect(std::uint16_t port);

  // Sends one request on this connection and reads its response. Adds Host and, when `body` is not
  // empty, Content-Length (unless `headers` already has them).
  Response Request(std::string_view method, std::string_view target, std::string_view body = "",
                   const std::vector<std::pair<std::string, std::string>>& headers = {});

  // Writes bytes as they are (malformed requests, partial requests, pipelining).
  void SendRaw(std::string_view bytes);
  // Reads one response (after SendRaw).
  Response ReadResponse();
  // Waits up to `within` for the server to close the connection: true on EOF/reset, false when the
  // connection is still open at the end (bytes the server sends meanwhile are discarded).
  bool WaitForClose(std::chrono::milliseconds within);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nurt::testing
