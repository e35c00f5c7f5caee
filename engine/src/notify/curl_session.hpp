#pragma once
// libcurl for the senders (private to nurt_notify): one easy handle per send, global init once, and
// the mapping of libcurl and protocol errors to the retryable/permanent Status codes of sender.hpp.
//
// Thread-safety: each CurlSession is used by one thread; several may exist at once.

#include <curl/curl.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "nurt/core/result.hpp"

namespace nurt::notify::internal {

struct TlsSettings {
  std::string ca_file;      // "" = the system's CA bundle
  bool verify_tls = true;
};

class CurlSession {
 public:
  CurlSession();  // curl_global_init once per process, then curl_easy_init
  ~CurlSession();
  CurlSession(const CurlSession&) = delete;
  CurlSession& operator=(const CurlSession&) = delete;

  CURL* handle() { return curl_; }
  bool ok() const { return curl_ != nullptr; }
  // Timeouts, TLS verification and CA file, no signals (threads), no redirects, error buffer.
  void Common(std::chrono::milliseconds timeout, const TlsSettings& tls);
  // curl's own message for the last failed perform (the error buffer, else curl_easy_strerror).
  std::string ErrorText(CURLcode code) const;

 private:
  CURL* curl_ = nullptr;
  char error_[CURL_ERROR_SIZE] = {};
};

struct HttpAnswer {
  int status = 0;
  std::string body;      // the first 2 KiB (for error messages)
  std::string location;  // Location header of a redirect
};

// POSTs `body` (application/json) to `url` with `headers`; http/https only, redirects not followed.
// Returns whatever the receiver answered (any status); a transport failure is the sender.hpp error.
// `what` names the target in messages ("slack channel 'ops-slack'").
Result<HttpAnswer> PostJsonAnswer(const std::string& what, const std::string& url,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  const std::string& body, std::chrono::milliseconds timeout,
                                  const TlsSettings& tls);

// OK for a 2xx answer; otherwise the sender.hpp error for its status (retryable or permanent).
Status AnswerStatus(const std::string& what, const HttpAnswer& answer);

// PostJsonAnswer, then AnswerStatus: the answer for a 2xx, otherwise the error.
Result<HttpAnswer> PostJson(const std::string& what, const std::string& url,
                            const std::vector<std::pair<std::string, std::string>>& headers,
                            const std::string& body, std::chrono::milliseconds timeout,
                            const TlsSettings& tls);

// The sender.hpp Status for a transport failure (`code` != CURLE_OK), `detail` = curl's message.
Status TransportError(const std::string& what, CURLcode code, const std::string& detail);

}  // namespace nurt::notify::internal
