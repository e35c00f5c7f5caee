#include "notify/curl_session.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>

namespace nurt::notify::internal {
namespace {

void GlobalInit() {
  // curl_global_init is not thread-safe on every build; do it once, before any handle exists.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

constexpr std::size_t kMaxAnswerBody = 2048;

std::size_t CollectBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* out = static_cast<std::string*>(user);
  const std::size_t n = size * count;
  if (out->size() < kMaxAnswerBody) out->append(data, std::min(n, kMaxAnswerBody - out->size()));
  return n;
}

std::size_t CollectLocation(char* data, std::size_t size, std::size_t count, void* user) {
  auto* out = static_cast<std::string*>(user);
  const std::size_t n = size * count;
  std::string line(data, n);
  std::string lower = line.substr(0, std::min<std::size_t>(line.size(), 9));
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "location:") {
    std::string value = line.substr(9);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.pop_back();
    }
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    *out = value;
  }
  return n;
}

std::string Shorten(const std::string& s) {
  std::string one_line;
  for (char c : s) one_line += (c == '\n' || c == '\r') ? ' ' : c;
  return one_line.size() > 200 ? one_line.substr(0, 200) + "…" : one_line;
}

}  // namespace

CurlSession::CurlSession() {
  GlobalInit();
  curl_ = curl_easy_init();
}

CurlSession::~CurlSession() {
  if (curl_ != nullptr) curl_easy_cleanup(curl_);
}

void CurlSession::Common(std::chrono::milliseconds timeout, const TlsSettings& tls) {
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error_);
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<std::int64_t>(timeout.count(), 10000)));
  curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, tls.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, tls.verify_tls ? 2L : 0L);
  if (!tls.ca_file.empty()) curl_easy_setopt(curl_, CURLOPT_CAINFO, tls.ca_file.c_str());
}

std::string CurlSession::ErrorText(CURLcode code) const {
  return error_[0] != '\0' ? std::string(error_) : std::string(curl_easy_strerror(code));
}

Status TransportError(const std::string& what, CURLcode code, const std::string& detail) {
  const std::string msg = what + ": " + detail + " (curl error " + std::to_string(static_cast<int>(code)) + ")";
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_USE_SSL_FAILED:
    case CURLE_LOGIN_DENIED:
      return Status::InvalidArgument(msg + "; fix the channel configuration (it will not work on a retry)");
    default:
      // Refused or reset connections, timeouts, DNS failures, TLS handshakes cut short: the other side
      // may be back soon.
      return Status::Unavailable(msg + "; will retry");
  }
}

Result<HttpAnswer> PostJsonAnswer(const std::string& what, const std::string& url,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  const std::string& body, std::chrono::milliseconds timeout,
                                  const TlsSettings& tls) {
  CurlSession s;
  if (!s.ok()) return Status::Unavailable(what + ": cannot create a libcurl handle (out of memory?)");
  CURL* c = s.handle();
  s.Common(timeout, tls);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_USERAGENT, "nurt-notify/1");
  struct curl_slist* list = nullptr;
  list = curl_slist_append(list, "Content-Type: application/json");
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  for (const auto& [name, value] : headers) list = curl_slist_append(list, (name + ": " + value).c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  HttpAnswer answer;
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, CollectLocation);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &answer.location);
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) return TransportError(what, rc, s.ErrorText(rc));
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  answer.status = static_cast<int>(status);
  return answer;
}

Status AnswerStatus(const std::string& what, const HttpAnswer& answer) {
  const long status = answer.status;
  if (status >= 200 && status < 300) return Status::Ok();
  const std::string reply = "HTTP " + std::to_string(status) +
                            (answer.body.empty() ? "" : ": " + Shorten(answer.body));
  if (status >= 500 || status == 408 || status == 429) {
    return Status::Unavailable(what + ": the receiver answered " + reply + "; will retry");
  }
  if (status >= 300 && status < 400) {
    return Status::FailedPrecondition(what + ": the receiver redirected (" + reply +
                                      (answer.location.empty() ? "" : ", Location " + answer.location) +
                                      "); redirects are not followed: configure the final URL");
  }
  return Status::FailedPrecondition(what + ": the receiver refused it with " + reply +
                                    "; sending it again will not help");
}

Result<HttpAnswer> PostJson(const std::string& what, const std::string& url,
                            const std::vector<std::pair<std::string, std::string>>& headers,
                            const std::string& body, std::chrono::milliseconds timeout,
                            const TlsSettings& tls) {
  NURT_ASSIGN_OR_RETURN(HttpAnswer answer, PostJsonAnswer(what, url, headers, body, timeout, tls));
  NURT_RETURN_IF_ERROR(AnswerStatus(what, answer));
  return answer;
}

}  // namespace nurt::notify::internal
