#pragma once
// A real daemon on a loopback port, on a throwaway SQLite file, in virtual time (ManualClock drives
// rate limits, task-link expiry and event times; the sockets are real). Tests talk to it through real
// HTTP with HttpTestClient.

#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "http_test_client.hpp"
#include "manual_clock.hpp"
#include "nurt/daemon/daemon.hpp"
#include "seeded_random.hpp"
#include "temp_dir.hpp"

namespace nurt::daemon {

class ThreadSafeLog : public std::stringbuf {
 public:
  std::string Text() {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return str();
  }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return std::stringbuf::xsputn(s, n);
  }
  int overflow(int c) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return std::stringbuf::overflow(c);
  }

 private:
  std::recursive_mutex mu_;  // stringbuf::xsputn calls overflow: the same thread locks twice
};

struct ApiResponse {
  int status = 0;
  Json body;          // parsed when the body is JSON, else null
  std::string text;   // the raw body
  testing::HttpTestClient::Response raw;
  std::string Header(std::string_view name) const { return raw.Header(name); }
};

inline std::ostream& operator<<(std::ostream& os, const ApiResponse& r) {
  return os << r.status << " " << r.text;
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override { StartDaemon(); }

  void StartDaemon(const std::function<void(server::DaemonConfig&)>& tune = {}) {
    server::DaemonConfig config;
    config.listen_address = "127.0.0.1";
    config.port = 0;
    config.threads = 4;
    config.sqlite_path = dir_.File("nurt.db");
    config.fsync = false;
    config.definition_paths = {std::string(NURT_SOURCE_ROOT) + "/examples",
                               std::string(NURT_SOURCE_ROOT) + "/workflows"};
    config.definition_orgs = {"acme", "globex"};
    config.log_level = server::LogLevel::kDebug;
    if (tune) tune(config);
    DaemonEnvironment env;
    env.clock = &clock_;
    env.random = &random_;
    env.log = &log_stream_;
    auto d = Daemon::Start(config, env);
    ASSERT_TRUE(d.ok()) << d.status();
    daemon_ = std::move(d).value();
    admin_ = NewKey("acme", "acme-admin", {}, "admin", "premium");
    other_admin_ = NewKey("globex", "globex-admin", {}, "admin", "premium");
  }

  void TearDown() override {
    if (daemon_) daemon_->Shutdown();
    if (HasFailure()) {  // the daemon's log says what a 500 was
      const std::string log = log_buf_.Text();
      std::cerr << "--- daemon log (last 6000 bytes) ---\n"
                << log.substr(log.size() > 6000 ? log.size() - 6000 : 0) << "---\n";
    }
  }

  std::string NewKey(const std::string& org, const std::string& name, std::vector<std::string> scopes,
                     const std::string& role = "", const std::string& tier = "premium") {
    auth::CreateKeyRequest req;
    req.org_id = org;
    req.name = name;
    req.scopes = std::move(scopes);
    req.role = role;
    req.tier = tier;
    req.actor = "test";
    auto issued = daemon_->keys()->Create(req);
    if (!issued.ok() && issued.status().IsAlreadyExists()) {
      // A restarted daemon on the same database: the key is there, its secret is not; make a new one.
      auto keys = daemon_->keys()->List(org);
      EXPECT_TRUE(keys.ok());
      for (const auto& k : *keys) {
        if (k.name == name && k.status == "active") issued = daemon_->keys()->Regenerate(org, k.id, "test", "restart");
      }
    }
    EXPECT_TRUE(issued.ok()) << issued.status();
    return issued.ok() ? issued->token : "";
  }

  ApiResponse Call(const std::string& method, const std::string& target, const std::string& token,
                   const Json& body = nullptr,
                   std::vector<std::pair<std::string, std::string>> headers = {}) {
    return CallRaw(method, target, token, body.is_null() ? "" : body.dump(), std::move(headers));
  }

  ApiResponse CallRaw(const std::string& method, const std::string& target, const std::string& token,
                      const std::string& body, std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (!client_) client_ = std::make_unique<testing::HttpTestClient>(daemon_->port());
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    ApiResponse r;
    r.raw = client_->Request(method, target, body, headers);
    r.status = r.raw.status;
    r.text = r.raw.body;
    try {
      if (!r.text.empty() && (r.text[0] == '{' || r.text[0] == '[')) r.body = Json::parse(r.text);
    } catch (const std::exception&) {
    }
    return r;
  }

  // Starts a lead in `org` (with that org's admin key unless `token` is given); returns its id.
  std::string StartLead(const std::string& token) {
    ApiResponse r = Call("POST", "/v1/instances", token,
                         Json{{"machine", "lead"},
                              {"data", {{"source", "web"}, {"contact", {{"name", "Anna"}, {"phone", "+48 601"}}}}}});
    EXPECT_EQ(r.status, 201) << r;
    return r.body.is_object() ? r.body.value("instanceId", "") : "";
  }

  testing::TempDir dir_;
  testing::ManualClock clock_;
  testing::SeededRandom random_{7};
  ThreadSafeLog log_buf_;
  std::ostream log_stream_{&log_buf_};
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<testing::HttpTestClient> client_;
  std::string admin_, other_admin_;
};

}  // namespace nurt::daemon
