#include "notify/address.hpp"

#include <algorithm>
#include <cctype>

namespace nurt::notify::internal {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool IsLoopbackHost(const std::string& host) {
  const std::string h = Lower(host);
  return h == "localhost" || h == "::1" || h.rfind("127.", 0) == 0;
}

}  // namespace

Result<Url> ParseUrl(const std::string& text) {
  const auto sep = text.find("://");
  if (sep == std::string::npos || sep == 0) {
    return Status::InvalidArgument("'" + text + "' is not a URL: it has no scheme (write e.g. https://host/path)");
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) {
      return Status::InvalidArgument("'" + text + "' is not a URL: it contains a space or control character");
    }
  }
  Url url;
  url.scheme = Lower(text.substr(0, sep));
  std::string rest = text.substr(sep + 3);
  const auto end = rest.find_first_of("/?#");
  std::string authority = rest.substr(0, end);
  if (const auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  if (!authority.empty() && authority[0] == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) {
      return Status::InvalidArgument("'" + text + "' is not a URL: '[' of an IPv6 host is not closed");
    }
    url.host = authority.substr(1, close - 1);
  } else {
    url.host = authority.substr(0, authority.find(':'));
  }
  if (url.host.empty()) {
    return Status::InvalidArgument("'" + text + "' is not a URL: it names no host");
  }
  url.loopback = IsLoopbackHost(url.host);
  return url;
}

Status CheckHttpUrl(const std::string& text, bool allow_http_loopback, const std::string& what) {
  auto url = ParseUrl(text);
  if (!url.ok()) return url.status().WithContext(what);
  if (url->scheme == "https") return Status::Ok();
  if (url->scheme == "http") {
    if (url->loopback && allow_http_loopback) return Status::Ok();
    if (url->loopback) {
      return Status::InvalidArgument(what + ": plain http:// to " + url->host +
                                     " needs allow_http_loopback: true (meant for tests and local relays)");
    }
    return Status::InvalidArgument(what + ": '" + text +
                                   "' uses plain http://, which sends the message and any signature "
                                   "readable on the way; use https://");
  }
  return Status::InvalidArgument(what + ": '" + text + "' must be an https:// URL, not " + url->scheme +
                                 "://");
}

Result<Mailbox> ParseMailbox(const std::string& text) {
  Mailbox m;
  std::string address = text;
  const auto lt = text.rfind('<');
  if (lt != std::string::npos) {
    const auto gt = text.find('>', lt);
    if (gt == std::string::npos || gt + 1 != text.find_last_not_of(" \t") + 1) {
      return Status::InvalidArgument("'" + text + "' is not a mailbox: write addr@example.pl or "
                                     "Name <addr@example.pl>");
    }
    address = text.substr(lt + 1, gt - lt - 1);
    std::string display = text.substr(0, lt);
    while (!display.empty() && (display.back() == ' ' || display.back() == '\t')) display.pop_back();
    while (!display.empty() && (display.front() == ' ' || display.front() == '\t')) display.erase(0, 1);
    if (display.size() >= 2 && display.front() == '"' && display.back() == '"') {
      display = display.substr(1, display.size() - 2);
    }
    for (char c : display) {
      if (c == '\r' || c == '\n' || c == '"' || c == '\\') {
        return Status::InvalidArgument("'" + text + "': the display name must not contain line breaks, "
                                       "quotes or backslashes");
      }
    }
    m.display = display;
  }
  const auto at = address.find('@');
  bool ok = at != std::string::npos && at > 0 && at + 1 < address.size() &&
            address.find('@', at + 1) == std::string::npos;
  for (char c : address) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == ',' || c == '"') {
      ok = false;
    }
  }
  if (!ok) {
    return Status::InvalidArgument("'" + text + "' is not an email address: write addr@example.pl or "
                                   "Name <addr@example.pl>");
  }
  m.address = address;
  return m;
}

}  // namespace nurt::notify::internal
