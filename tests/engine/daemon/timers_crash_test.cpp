// A timer survives `kill -9`: armed by the CLI, the daemon is killed between arming and firing, the timer
// comes due while nothing runs, and the restarted daemon fires it exactly once, with its lateness recorded.
// Real processes and the wall clock (a 2-second timer), so this test waits a few seconds by design.

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "child_process.hpp"
#include "daemon_fixture.hpp"

namespace nurt::daemon {

using testing::Child;
using testing::ReadLine;
using testing::Spawn;
namespace {

const std::string kBinary = NURT_BINARY_ROOT "/engine/nurt";

// Runs the CLI to completion; returns its stdout.
std::string Cli(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  std::vector<std::string> argv{kBinary};
  argv.insert(argv.end(), args.begin(), args.end());
  Child c = Spawn(argv, env);
  std::string out;
  for (int ch; (ch = fgetc(c.out)) != EOF;) out += static_cast<char>(ch);
  int status = 0;
  waitpid(c.pid, &status, 0);
  fclose(c.out);
  return out;
}

TEST(TimersCrash, ATimerArmedBeforeAKillFiresOnceAfterTheRestart) {
  if (access(kBinary.c_str(), X_OK) != 0) GTEST_SKIP() << kBinary << " is not built";
  testing::TempDir dir;
  std::ofstream(dir.File("reminder.yaml")) << R"(apiVersion: nurt/v1
kind: Machine
name: reminder
version: 1
states:
  waiting:
    after: { delay: PT2S, target: reminded }
  reminded: { type: final }
)";
  const std::string config = dir.File("nurt.yaml");
  std::ofstream(config) << "listen: {address: 127.0.0.1, port: 0}\nthreads: 2\nlog: {level: warn}\n"
                           "timers: {refresh: 200ms}\n";
  const std::vector<std::string> env = {"NURT_DB=" + dir.File("nurt.db"), "NURT_FSYNC=true",
                                        "NURT_DEFINITIONS=" + dir.path(), "NURT_DEFINITION_ORGS=acme",
                                        "NURT_ORG=acme", "NURT_PATH=" + dir.path()};
  const auto armed_at = std::chrono::steady_clock::now();
  ASSERT_NE(Cli({"start", "reminder", "--id", "r1"}, env).find("waiting"), std::string::npos);

  // The daemon loads the armed timer, then dies before it is due.
  Child first = Spawn({kBinary, "serve", "--config", config}, env);
  ASSERT_GT(first.pid, 0);
  ASSERT_NE(ReadLine(first.out).find("http://127.0.0.1:"), std::string::npos);
  ASSERT_EQ(kill(first.pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(first.pid, &status, 0), first.pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  fclose(first.out);
  EXPECT_NE(Cli({"show", "r1"}, env).find("waiting"), std::string::npos);

  // Nothing runs while it comes due.
  std::this_thread::sleep_until(armed_at + std::chrono::milliseconds(2600));
  Child second = Spawn({kBinary, "serve", "--config", config}, env);
  ASSERT_GT(second.pid, 0);
  ASSERT_NE(ReadLine(second.out).find("http://127.0.0.1:"), std::string::npos);
  bool fired = false;
  for (int i = 0; i < 100 && !fired; ++i) {
    fired = Cli({"show", "r1"}, env).find("reminded") != std::string::npos;
    if (!fired) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(kill(second.pid, SIGTERM), 0);
  ASSERT_EQ(waitpid(second.pid, &status, 0), second.pid);
  fclose(second.out);
  ASSERT_TRUE(fired) << "the restarted daemon did not fire the timer";

  const Json timers = Json::parse(Cli({"timers", "r1", "--json"}, env));
  ASSERT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers[0]["status"], "fired");
  EXPECT_GE(timers[0]["latenessMs"].get<std::int64_t>(), 500);  // it came due while no daemon ran
  const Json history = Json::parse(Cli({"history", "r1", "--json"}, env));
  int firings = 0;
  for (const auto& e : history) firings += e["actor"] == "nurt:timer";
  EXPECT_EQ(firings, 1);
}

}  // namespace
}  // namespace nurt::daemon
