// `nurt keys` through the CLI entry point (RunCli) on a throwaway database: the printed token
// authenticates against the same database and secret file, every subcommand's output and exit
// status,
// --json shapes, the secret file's default place and overrides, and usage errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "nurt/auth/api_key_service.hpp"
#include "nurt/auth/master_secret.hpp"
#include "nurt/cli/cli.hpp"
#include "nurt/core/json.hpp"
#include "nurt/env/clock.hpp"
#include "nurt/store/key_store.hpp"
#include "temp_dir.hpp"

namespace nurt::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using Strings = std::vector<std::string>;

struct Ran {
  int code = -1;
  std::string out, err;
  Json json() const { return Json::parse(out); }
};

class KeysCommandTest : public ::testing::Test {
 protected:
  KeysCommandTest() {
    env_.db = dir_.File("nurt.db");
    env_.org = "acme";
    env_.actor = "cli:alice";
  }

  Ran Nurt(const Strings& args) {
    std::ostringstream out, err;
    Ran r;
    r.code = RunCli(args, env_, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  Ran Ok(const Strings& args) {
    Ran r = Nurt(args);
    EXPECT_EQ(r.code, 0) << ::testing::PrintToString(args) << "\nstdout:\n"
                         << r.out << "stderr:\n"
                         << r.err;
    return r;
  }

  static std::string TokenIn(const std::string& out) {
    std::smatch m;
    static const std::regex kToken("token:    (nurt_[0-9a-z]{12}_[0-9a-z]{52})\n");
    return std::regex_search(out, m, kToken) ? m[1].str() : "";
  }

  // Authenticates `token` the way the daemon will: same database, same secret file.
  Result<auth::Principal> Authenticate(const std::string& token,
                                       const std::string& secret_file = "") {
    store::SqliteOptions o;
    o.path = env_.db;
    auto keys = store::NewSqliteKeyStore(o);
    EXPECT_TRUE(keys.ok()) << keys.status();
    auto secret =
        env::LocalFileSystem()->ReadFile(secret_file.empty() ? env_.db + ".secret" : secret_file);
    EXPECT_TRUE(secret.ok()) << secret.status();
    std::string master = *secret;
    if (!master.empty() && master.back() == '\n') master.pop_back();
    auto ids = env::NewUlidGenerator(env::SystemClock());
    auth::ApiKeyService service(keys->get(), env::SystemClock(), env::SystemRandom(), ids.get(),
                                master);
    return service.Authenticate(token);
  }

  nurt::testing::TempDir dir_;
  CliEnvironment env_;
};

TEST_F(KeysCommandTest, CreatePrintsATokenOnceThatAuthenticates) {
  Ran r = Ok({"keys", "create", "--name", "installer-app", "--role", "installer", "--scope",
              "webhooks:manage", "--scope", "read:audit", "--tier", "premium", "--reason",
              "field app"});
  EXPECT_THAT(r.out, HasSubstr("created API key 'installer-app'\n"));
  EXPECT_THAT(r.out, HasSubstr("role:     installer\n"));
  EXPECT_THAT(r.out, HasSubstr("scopes:   read:audit, webhooks:manage\n"));
  EXPECT_THAT(r.out, HasSubstr("allows:   read:audit, read:instances, read:tasks, tasks:complete, "
                               "webhooks:manage, write:events\n"));
  EXPECT_THAT(r.out, HasSubstr("tier:     premium\n"));
  EXPECT_THAT(r.out, HasSubstr("expires:  never\n"));
  EXPECT_THAT(r.err, HasSubstr("warning: this token is shown once and cannot be shown again"));
  const std::string token = TokenIn(r.out);
  ASSERT_FALSE(token.empty()) << r.out;

  auto p = Authenticate(token);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->org_id, "acme");
  EXPECT_EQ(p->key_name, "installer-app");
  EXPECT_EQ(p->tier, "premium");
  EXPECT_TRUE(p->Allows("tasks:complete"));
  EXPECT_TRUE(p->Allows("webhooks:manage"));

  // The secret file was created next to the database, private to its owner.
  struct stat info {};
  ASSERT_EQ(::stat((env_.db + ".secret").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  // ls never shows the token again.
  Ran ls = Ok({"keys", "ls"});
  EXPECT_THAT(ls.out, HasSubstr("installer-app  active  nurt_" + token.substr(5, 12) + "…"));
  EXPECT_THAT(ls.out, Not(HasSubstr(token)));
  EXPECT_THAT(ls.out, HasSubstr("last used "));
}

TEST_F(KeysCommandTest, JsonShapesOfCreateListAndChange) {
  Ran r = Ok({"keys", "create", "--name", "ci", "--scope", "write:instances", "--expires", "P90D",
              "--json"});
  const Json created = r.json();
  EXPECT_EQ(created["key"]["name"], "ci");
  EXPECT_EQ(created["key"]["orgId"], "acme");
  EXPECT_EQ(created["key"]["status"], "active");
  EXPECT_EQ(created["key"]["scopes"], Json::array({"write:instances"}));
  EXPECT_TRUE(created["key"]["role"].is_null());
  EXPECT_EQ(created["key"]["tier"], "standard");
  EXPECT_EQ(created["key"]["createdBy"], "cli:alice");
  ASSERT_TRUE(created["key"]["expiresAt"].is_string());
  const auto expires = ParseIso8601(created["key"]["expiresAt"].get<std::string>());
  const auto created_at = ParseIso8601(created["key"]["createdAt"].get<std::string>());
  EXPECT_EQ(*expires - *created_at, std::chrono::hours(24 * 90));
  EXPECT_TRUE(created["warning"].get<std::string>().find("shown once") != std::string::npos);
  const std::string token = created["token"];
  const std::string id = created["key"]["id"];
  EXPECT_TRUE(Authenticate(token).ok());

  const Json listed = Ok({"keys", "ls", "--json"}).json();
  ASSERT_EQ(listed["keys"].size(), 1u);
  EXPECT_EQ(listed["keys"][0]["id"], id);
  EXPECT_FALSE(listed["keys"][0].contains("token"));
  EXPECT_THAT(listed.dump(), Not(HasSubstr(token.substr(18))));

  const Json suspended = Ok({"keys", "suspend", id, "--reason", "rotation", "--json"}).json();
  EXPECT_EQ(suspended["status"], "suspended");
}

TEST_F(KeysCommandTest, SuspendActivateRevokeRegenerateChangeWhatTheTokenDoes) {
  const std::string first =
      TokenIn(Ok({"keys", "create", "--name", "app", "--role", "finance"}).out);
  const std::string id = Ok({"keys", "ls", "--json"}).json()["keys"][0]["id"];

  EXPECT_EQ(Ok({"keys", "suspend", id, "--reason", "lost phone"}).out,
            "API key 'app' (" + id + ") is now suspended\n");
  auto refused = Authenticate(first);
  EXPECT_THAT(refused.status().message(), HasSubstr("is suspended; an admin can reactivate it"));
  EXPECT_EQ(Ok({"keys", "activate", id}).out, "API key 'app' (" + id + ") is now active\n");
  EXPECT_TRUE(Authenticate(first).ok());

  Ran regen = Ok({"keys", "regenerate", id, "--reason", "leaked"});
  EXPECT_THAT(regen.out, HasSubstr("regenerated API key 'app'"));
  EXPECT_THAT(regen.err, HasSubstr("cannot be shown again"));
  const std::string second = TokenIn(regen.out);
  ASSERT_FALSE(second.empty());
  EXPECT_NE(second, first);
  EXPECT_FALSE(Authenticate(first).ok());
  EXPECT_TRUE(Authenticate(second).ok());

  EXPECT_EQ(Ok({"keys", "revoke", id}).out, "API key 'app' (" + id + ") is now revoked\n");
  EXPECT_THAT(Authenticate(second).status().message(), HasSubstr("was revoked"));

  Ran again = Nurt({"keys", "activate", id});
  EXPECT_EQ(again.code, 1);
  EXPECT_THAT(again.err, HasSubstr("nurt keys activate: API key 'app' (" + id +
                                   ") is revoked, and revocation is final; create a new key"));
}

TEST_F(KeysCommandTest, KeysBelongToTheirOrg) {
  Ok({"keys", "create", "--name", "app", "--role", "admin"});
  const std::string id = Ok({"keys", "ls", "--json"}).json()["keys"][0]["id"];
  Ran other = Nurt({"keys", "ls", "--org", "beta"});
  EXPECT_EQ(other.code, 0);
  EXPECT_THAT(other.out, HasSubstr("(no API keys in org beta"));
  Ran suspend = Nurt({"keys", "suspend", id, "--org", "beta"});
  EXPECT_EQ(suspend.code, 1);
  EXPECT_THAT(suspend.err, HasSubstr("org 'beta' has no API key '" + id + "'"));
}

TEST_F(KeysCommandTest, RefusalsExplainWhatToFix) {
  Ran dup_setup = Ok({"keys", "create", "--name", "app", "--role", "installer"});
  Ran dup = Nurt({"keys", "create", "--name", "app", "--role", "installer"});
  EXPECT_EQ(dup.code, 1);
  EXPECT_THAT(dup.err, HasSubstr("already has an API key named 'app'"));

  Ran role = Nurt({"keys", "create", "--name", "x", "--role", "boss"});
  EXPECT_EQ(role.code, 1);
  EXPECT_THAT(role.err, HasSubstr("roles are: architect, installer, coordinator, finance, admin"));

  Ran scope = Nurt({"keys", "create", "--name", "x", "--scope", "read:task", "--json"});
  EXPECT_EQ(scope.code, 1);
  EXPECT_EQ(scope.json()["error"]["code"], "invalid argument");
  EXPECT_THAT(scope.json()["error"]["message"].get<std::string>(),
              HasSubstr("did you mean 'read:tasks'?"));

  Ran nothing = Nurt({"keys", "create", "--name", "x"});
  EXPECT_EQ(nothing.code, 1);
  EXPECT_THAT(nothing.err, HasSubstr("at least one scope or a role"));
  EXPECT_EQ(Ok({"keys", "ls", "--json"}).json()["keys"].size(), 1u);
}

TEST_F(KeysCommandTest, UsageErrorsExitWithTwo) {
  for (const Strings& args :
       {Strings{"keys"}, Strings{"keys", "rotate"}, Strings{"keys", "suspend"},
        Strings{"keys", "ls", "extra"}, Strings{"keys", "create", "--role", "admin"},
        Strings{"keys", "create", "--name", "x", "--role", "admin", "--expires", "soon"}}) {
    Ran r = Nurt(args);
    EXPECT_EQ(r.code, 2) << ::testing::PrintToString(args) << r.err;
    EXPECT_THAT(r.err, HasSubstr("keys create --name N")) << ::testing::PrintToString(args);
  }
  EXPECT_THAT(Nurt({"keys", "create", "--name", "x", "--role", "admin", "--expires", "soon"}).err,
              HasSubstr("like P90D (days) or PT12H (hours)"));
  // The main usage lists the keys commands and the secret file option.
  Ran help = Nurt({"--help"});
  EXPECT_THAT(help.out, HasSubstr("keys create --name N"));
  EXPECT_THAT(help.out, HasSubstr("--secret-file P"));
}

TEST_F(KeysCommandTest, ExpiresAcceptsAnRfc3339Time) {
  const Json created = Ok({"keys", "create", "--name", "x", "--role", "admin", "--expires",
                           "2099-01-31T00:00:00Z", "--json"})
                           .json();
  EXPECT_EQ(created["key"]["expiresAt"], "2099-01-31T00:00:00.000Z");
  Ran past = Nurt(
      {"keys", "create", "--name", "y", "--role", "admin", "--expires", "2001-01-01T00:00:00Z"});
  EXPECT_EQ(past.code, 1);
  EXPECT_THAT(past.err, HasSubstr("is not in the future"));
}

TEST_F(KeysCommandTest, SecretFileFromFlagOrEnvironment) {
  const std::string flag_file = dir_.File("flag.secret");
  const std::string token = TokenIn(
      Ok({"keys", "create", "--name", "a", "--role", "admin", "--secret-file", flag_file}).out);
  EXPECT_TRUE(Authenticate(token, flag_file).ok());

  env_.secret_file = dir_.File("env.secret");
  const std::string token2 = TokenIn(Ok({"keys", "create", "--name", "b", "--role", "admin"}).out);
  EXPECT_TRUE(Authenticate(token2, env_.secret_file).ok());
  // Keys are hashed under their secret: another secret file does not accept them.
  EXPECT_FALSE(Authenticate(token2, flag_file).ok());
}

TEST_F(KeysCommandTest, ADamagedSecretFileStopsWithItsPath) {
  ASSERT_TRUE(
      env::LocalFileSystem()->CreateFileExclusive(env_.db + ".secret", "garbage\n", 0600).ok());
  Ran r = Nurt({"keys", "ls"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr(env_.db + ".secret"));
  EXPECT_THAT(r.err, HasSubstr("restore it from backup"));
}

TEST_F(KeysCommandTest, EveryChangeIsInTheAuditLogWithTheCliActor) {
  Ok({"keys", "create", "--name", "app", "--role", "admin", "--reason", "setup"});
  const std::string id = Ok({"keys", "ls", "--json"}).json()["keys"][0]["id"];
  Ok({"keys", "suspend", id, "--reason", "holiday", "--actor", "cli:bob"});
  store::SqliteOptions o;
  o.path = env_.db;
  auto keys = store::NewSqliteKeyStore(o);
  ASSERT_TRUE(keys.ok());
  auto audit = (*keys)->ListAudit("acme", 10, "");
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].action, "key.create");
  EXPECT_EQ((*audit)[0].actor, "cli:alice");
  EXPECT_EQ((*audit)[0].reason, "setup");
  EXPECT_EQ((*audit)[1].action, "key.suspend");
  EXPECT_EQ((*audit)[1].actor, "cli:bob");
  EXPECT_EQ((*audit)[1].target, id);
  EXPECT_EQ((*audit)[1].reason, "holiday");
}

}  // namespace
}  // namespace nurt::cli
