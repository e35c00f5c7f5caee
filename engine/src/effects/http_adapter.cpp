#include "nurt/effects/http_adapter.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "notify/curl_session.hpp"

namespace nurt::effects {
namespace {

using notify::internal::CurlSession;

struct Answer {
  std::string body;
  std::size_t limit = 0;
  bool cut = false;
  Json headers = Json::object();
};

std::size_t CollectBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* a = static_cast<Answer*>(user);
  const std::size_t n = size * count;
  const std::size_t room = a->limit > a->body.size() ? a->limit - a->body.size() : 0;
  if (n > room) a->cut = true;
  a->body.append(data, std::min(n, room));
  return n;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

std::size_t CollectHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* a = static_cast<Answer*>(user);
  const std::size_t n = size * count;
  const std::string line(data, n);
  const std::size_t colon = line.find(':');
  if (line.rfind("HTTP/", 0) == 0) {
    a->headers = Json::object();  // a new response (after 100 Continue): keep only the last one's
  } else if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    a->headers[name] = Trim(line.substr(colon + 1));
  }
  return n;
}

std::string Shorten(const std::string& s) {
  std::string one_line;
  for (char c : s) one_line += (c == '\n' || c == '\r') ? ' ' : c;
  return one_line.size() > 200 ? one_line.substr(0, 200) + "…" : one_line;
}

class HttpAdapter final : public Adapter {
 public:
  explicit HttpAdapter(HttpAdapterOptions options) : options_(std::move(options)) {}

  std::string Name() const override { return "http"; }
  Json ConfigSchema() const override {
    return Json::parse(R"({"type":"object","additionalProperties":false,"properties":{
      "timeout":{"type":"string"},"caFile":{"type":"string"},"verifyTls":{"type":"boolean"},
      "concurrency":{"type":"integer","minimum":1,"maximum":256}}})");
  }
  Json InputSchema() const override { return dsl::BuiltinAdapters().at("http"); }
  int Concurrency() const override { return options_.concurrency; }

  std::string Endpoint(const EffectCall& call) const override {
    // scheme://host[:port] — the part of the URL that identifies the server.
    const std::string url = call.input.value("url", std::string());
    const std::size_t scheme = url.find("://");
    if (scheme == std::string::npos) return url;
    const std::size_t end = url.find_first_of("/?#", scheme + 3);
    return url.substr(0, end);
  }

  CallResult Execute(const EffectCall& call) override {
    CallResult r;
    const std::string url = call.input.value("url", std::string());
    const bool has_body = call.input.contains("body") && !call.input["body"].is_null();
    const std::string method = call.input.value("method", std::string(has_body ? "POST" : "GET"));
    if (has_body) {
      r.request_body = call.input["body"].is_string() ? call.input["body"].get<std::string>()
                                                      : call.input["body"].dump();
    }
    const std::chrono::milliseconds timeout =
        call.input.contains("timeoutMs") ? std::chrono::milliseconds(call.input["timeoutMs"].get<std::int64_t>())
                                         : options_.default_timeout;
    const std::string what = "http " + method + " " + url;

    CurlSession s;
    if (!s.ok()) return Fail(r, "connection", what + ": cannot create a libcurl handle (out of memory?)", true);
    CURL* c = s.handle();
    s.Common(timeout, notify::internal::TlsSettings{options_.ca_file, options_.verify_tls});
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method == "GET") curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    if (has_body) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.request_body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.request_body.size()));
    }
    curl_easy_setopt(c, CURLOPT_USERAGENT, "nurt-effects/1");
    struct curl_slist* list = nullptr;
    if (has_body) list = curl_slist_append(list, "Content-Type: application/json");
    list = curl_slist_append(list, "Expect:");
    list = curl_slist_append(list, ("Idempotency-Key: " + call.idempotency_key).c_str());
    if (call.input.contains("headers")) {
      for (const auto& [name, value] : call.input["headers"].items()) {
        list = curl_slist_append(list, (name + ": " + value.get<std::string>()).c_str());
      }
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    Answer answer;
    answer.limit = options_.max_response_bytes;
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, CollectBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, CollectHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &answer);
    const CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(list);
    curl_off_t micros = 0;
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &micros);
    r.duration_ms = static_cast<std::int64_t>(micros / 1000);
    r.response_body = answer.body;
    if (rc != CURLE_OK) {
      const Status st = notify::internal::TransportError(what, rc, s.ErrorText(rc));
      const std::string code = rc == CURLE_OPERATION_TIMEDOUT ? "timeout"
                               : st.IsUnavailable()           ? "connection"
                                                              : "config";
      return Fail(r, code, st.message(), st.IsUnavailable());
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    r.http_status = static_cast<int>(status);
    if (status >= 200 && status < 300) {
      Json body = answer.body;
      if (!answer.cut && !answer.body.empty()) {
        try {
          body = Json::parse(answer.body);
        } catch (const Json::exception&) {
          // Not JSON: the text as is.
        }
      }
      r.ok = true;
      r.output = Json{{"status", status}, {"headers", answer.headers}, {"body", body}};
      return r;
    }
    const std::string reply =
        "HTTP " + std::to_string(status) + (answer.body.empty() ? "" : ": " + Shorten(answer.body));
    if (status >= 500 || status == 408 || status == 429) {
      return Fail(r, "http-" + std::string(status >= 500 ? "5xx" : "4xx"),
                  what + ": the receiver answered " + reply + "; will retry", true);
    }
    if (status >= 300 && status < 400) {
      return Fail(r, "redirect",
                  what + ": the receiver redirected (" + reply + "); redirects are not followed: call the final URL",
                  false);
    }
    return Fail(r, "http-4xx", what + ": the receiver refused it with " + reply + "; trying again will not help",
                false);
  }

 private:
  static CallResult Fail(CallResult r, std::string code, std::string message, bool retryable) {
    r.ok = false;
    r.code = std::move(code);
    r.message = std::move(message);
    r.retryable = retryable;
    return r;
  }

  HttpAdapterOptions options_;
};

}  // namespace

std::shared_ptr<Adapter> NewHttpAdapter(const HttpAdapterOptions& options) {
  return std::make_shared<HttpAdapter>(options);
}

}  // namespace nurt::effects
