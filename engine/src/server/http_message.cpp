#include "nurt/server/http_message.hpp"

#include <algorithm>
#include <cctype>

namespace nurt::server {

bool HeaderNameEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

namespace {
std::string FindHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (HeaderNameEquals(key, name)) return value;
  }
  return "";
}
}  // namespace

std::string HttpRequest::Header(std::string_view name) const { return FindHeader(headers, name); }

std::string HttpRequest::QueryParam(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return "";
}

std::vector<std::string> HttpRequest::QueryParams(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [key, value] : query) {
    if (key == name) values.push_back(value);
  }
  return values;
}

void HttpResponse::SetHeader(std::string_view name, std::string value) {
  std::erase_if(headers, [&](const auto& header) { return HeaderNameEquals(header.first, name); });
  headers.emplace_back(std::string(name), std::move(value));
}

std::string HttpResponse::Header(std::string_view name) const { return FindHeader(headers, name); }

HttpResponse HttpResponse::Json(int status, const nurt::Json& body) {
  HttpResponse response;
  response.status = status;
  // Replace, not throw, on invalid UTF-8: messages may quote bytes a client sent.
  response.body = body.dump(-1, ' ', false, nurt::Json::error_handler_t::replace);
  return response;
}

HttpResponse HttpResponse::Error(int status, std::string_view code, std::string_view message,
                                 nurt::Json details) {
  nurt::Json error = {{"code", code}, {"message", message}};
  if (!details.is_null()) error["details"] = std::move(details);
  return Json(status, nurt::Json{{"error", std::move(error)}});
}

}  // namespace nurt::server
