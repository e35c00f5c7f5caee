// The real `nurt serve` process: configuration from a file plus environment, a request over loopback,
// then SIGTERM → graceful stop with exit status 0.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>

#include "child_process.hpp"
#include "daemon_fixture.hpp"

namespace nurt::daemon {
namespace {

using testing::Child;
using testing::ReadLine;
using testing::Spawn;

TEST(NurtServe, ServesUntilSigtermThenExitsZero) {
  const std::string binary = NURT_BINARY_ROOT "/engine/nurt";
  if (access(binary.c_str(), X_OK) != 0) GTEST_SKIP() << binary << " is not built";
  testing::TempDir dir;
  const std::string config = dir.File("nurt.yaml");
  std::ofstream(config) << "listen: {address: 127.0.0.1, port: 8080}\nthreads: 2\nlog: {level: warn}\n";
  Child child = Spawn({binary, "serve", "--config", config},
                      {"NURT_PORT=0", "NURT_DB=" + dir.File("nurt.db"), "NURT_FSYNC=false",
                       "NURT_DEFINITIONS=" + std::string(NURT_SOURCE_ROOT) + "/examples",
                       "NURT_DEFINITION_ORGS=acme"});
  ASSERT_GT(child.pid, 0);
  const std::string banner = ReadLine(child.out);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(banner, m, std::regex(R"(http://127\.0\.0\.1:(\d+))"))) << banner;
  const auto port = static_cast<std::uint16_t>(std::stoi(m[1]));
  {
    testing::HttpTestClient client(port);
    EXPECT_EQ(client.Request("GET", "/healthz").status, 200);
    EXPECT_EQ(client.Request("GET", "/v1/instances").status, 401);
  }
  ASSERT_EQ(kill(child.pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child.pid, &status, 0), child.pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by a signal instead of stopping";
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(ReadLine(child.out).find("stopped after SIGTERM"), std::string::npos);
  fclose(child.out);

  // A bad configuration stops the start with file:line:col and status 1.
  std::ofstream(config) << "listen: {adress: 127.0.0.1}\n";
  Child bad = Spawn({binary, "serve", "--config", config}, {"NURT_DB=" + dir.File("nurt.db")});
  ASSERT_EQ(waitpid(bad.pid, &status, 0), bad.pid);
  EXPECT_EQ(WEXITSTATUS(status), 1);
  fclose(bad.out);
}

}  // namespace
}  // namespace nurt::daemon
