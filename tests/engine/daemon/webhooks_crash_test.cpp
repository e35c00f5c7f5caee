// The crash property of outbound webhooks with the real `nurt serve` binary: the daemon is killed
// with SIGKILL again and again while it delivers; after the restarts every matching event has reached
// the receiver at least once, and a receiver deduplicating on webhook-id has seen each exactly once
// (a typical run: 40 events, 45 requests, the extra ones repeats of an id whose record a kill cut off).

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <stdexcept>
#include <thread>

#include "daemon_fixture.hpp"
#include "nurt/auth/api_key_service.hpp"
#include "nurt/auth/master_secret.hpp"
#include "nurt/env/file_system.hpp"
#include "nurt/env/id_generator.hpp"
#include "nurt/store/key_store.hpp"
#include "nurt/server/http_server.hpp"

namespace nurt::daemon {
namespace {

struct Serve {
  pid_t pid = -1;
  FILE* out = nullptr;
  std::uint16_t port = 0;
};

Serve StartServe(const std::string& binary, const std::string& db) {
  // Everything the child needs is built before fork: the receiver's threads may hold the allocator's
  // lock at that moment, so the child must not allocate.
  const std::vector<std::string> env = {"NURT_LISTEN_ADDRESS=127.0.0.1", "NURT_PORT=0", "NURT_DB=" + db,
                                        "NURT_FSYNC=true", "NURT_LOG_LEVEL=error",
                                        "NURT_DEFINITIONS=" + std::string(NURT_SOURCE_ROOT) + "/examples",
                                        "NURT_DEFINITION_ORGS=acme"};
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  char* args[] = {const_cast<char*>(binary.c_str()), const_cast<char*>("serve"), nullptr};
  int fds[2];
  if (pipe(fds) != 0) return {};
  Serve s;
  s.pid = fork();
  if (s.pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    execve(args[0], args, envp.data());
    _exit(127);
  }
  close(fds[1]);
  s.out = fdopen(fds[0], "r");
  std::string line;
  for (int c; (c = fgetc(s.out)) != EOF && c != '\n';) line += static_cast<char>(c);
  std::smatch m;
  if (std::regex_search(line, m, std::regex(R"(http://127\.0\.0\.1:(\d+))"))) {
    s.port = static_cast<std::uint16_t>(std::stoi(m[1]));
  }
  return s;
}

void Kill(Serve& s, int signal) {
  kill(s.pid, signal);
  int status = 0;
  waitpid(s.pid, &status, 0);
  fclose(s.out);
}

std::string AdminToken(const std::string& db) {
  store::SqliteOptions so;
  so.path = db;
  auto keys = store::NewSqliteKeyStore(so);
  EXPECT_TRUE(keys.ok()) << keys.status();
  auto secret = auth::LoadOrCreateSecret(env::LocalFileSystem(), env::SystemRandom(), db + ".secret");
  EXPECT_TRUE(secret.ok()) << secret.status();
  auto ids = env::NewUlidGenerator(env::SystemClock());
  auth::ApiKeyService service(keys->get(), env::SystemClock(), env::SystemRandom(), ids.get(), *secret);
  auth::CreateKeyRequest req;
  req.org_id = "acme";
  req.name = "crash-admin";
  req.role = "admin";
  req.tier = "premium";
  req.actor = "test";
  auto issued = service.Create(req);
  EXPECT_TRUE(issued.ok()) << issued.status();
  return issued.ok() ? issued->token : "";
}

// A receiver that takes 40 ms per request (so the daemon is killed with deliveries pending and in
// flight) and records each one.
class SlowReceiver {
 public:
  SlowReceiver() {
    server::HttpServerOptions o;
    o.threads = 2;
    auto s = server::HttpServer::Start(
        o,
        [this](server::HttpRequest& r) {
          std::this_thread::sleep_for(std::chrono::milliseconds(40));
          {
            std::lock_guard<std::mutex> lock(mu_);
            received_.push_back({r.Header("webhook-id"), Json::parse(r.body)});
          }
          server::HttpResponse resp;
          resp.status = 200;
          resp.content_type = "text/plain";
          resp.body = "ok";
          return resp;
        },
        nullptr, nullptr, nullptr, nullptr);
    if (!s.ok()) throw std::runtime_error("receiver: " + s.status().ToString());
    server_ = std::move(s).value();
  }
  ~SlowReceiver() { server_->Shutdown(); }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/hook"; }
  // (webhook-id, body) of every request, in arrival order.
  std::vector<std::pair<std::string, Json>> received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, Json>> received_;
  std::unique_ptr<server::HttpServer> server_;
};

testing::HttpTestClient::Response Post(std::uint16_t port, const std::string& token, const std::string& path,
                                      const Json& body) {
  testing::HttpTestClient client(port);
  return client.Request("POST", path, body.dump(),
                        {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
}

TEST(WebhooksCrash, KillNineWhileDeliveringLosesNothingAndDedupeSeesEachOnce) {
  const std::string binary = NURT_BINARY_ROOT "/engine/nurt";
  if (access(binary.c_str(), X_OK) != 0) GTEST_SKIP() << binary << " is not built";
  testing::TempDir dir;
  const std::string db = dir.File("nurt.db");
  const std::string token = AdminToken(db);
  SlowReceiver receiver;

  std::set<std::string> started;  // the started instances: each one's start event must arrive
  for (int round = 0; round < 5; ++round) {
    Serve s = StartServe(binary, db);
    ASSERT_GT(s.port, 0) << "nurt serve did not start";
    if (round == 0) {
      auto r = Post(s.port, token, "/v1/webhooks",
                    Json{{"url", receiver.Url()}, {"allowHttpLoopback", true}, {"events", {"nurt.start"}}});
      ASSERT_EQ(r.status, 201) << r.body;
    }
    for (int i = 0; i < 8; ++i) {
      auto r = Post(s.port, token, "/v1/instances",
                    Json{{"machine", "lead"},
                         {"data", {{"source", "web"}, {"contact", {{"name", "A"}, {"phone", "1"}}}}}});
      ASSERT_EQ(r.status, 201) << r.body;
      const std::string instance = Json::parse(r.body)["instanceId"];
      started.insert(instance);
    }
    // Killed at a different moment of the delivery each round (from right away to a little later).
    std::this_thread::sleep_for(std::chrono::milliseconds(round * 15));
    Kill(s, SIGKILL);
  }

  // What arrived before the last start (the rest was pending or in flight when a daemon was killed).
  const std::size_t before_last = receiver.received().size();
  Serve last = StartServe(binary, db);
  ASSERT_GT(last.port, 0);
  auto unique_instances = [&] {
    std::set<std::string> seen;
    for (const auto& [id, body] : receiver.received()) seen.insert(body["data"]["entity"]["id"]);
    return seen;
  };
  for (int i = 0; i < 400 && unique_instances().size() < started.size(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Kill(last, SIGTERM);

  ::testing::Test::RecordProperty("requests_before_last_start", static_cast<int>(before_last));
  ::testing::Test::RecordProperty("requests", static_cast<int>(receiver.received().size()));
  EXPECT_LT(before_last, started.size()) << "the kills came after every delivery: the test proves nothing";
  EXPECT_EQ(unique_instances(), started) << "every start event reached the receiver at least once";
  // Deduplicating on webhook-id: one id per event, so the receiver processed each event exactly once.
  std::map<std::string, std::set<std::string>> ids_per_event;
  for (const auto& [id, body] : receiver.received()) ids_per_event[body["id"]].insert(id);
  EXPECT_EQ(ids_per_event.size(), started.size());
  for (const auto& [event, ids] : ids_per_event) EXPECT_EQ(ids.size(), 1u) << event << " arrived under several ids";
}

}  // namespace
}  // namespace nurt::daemon
