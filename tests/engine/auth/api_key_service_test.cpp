// ApiKeyService on a real SQLite key store in a TempDir, in virtual time: creating keys and their
// validation, authenticating (and every way it is refused), lifecycle changes with their audit
// records, regeneration, expiry, and the once-a-minute last-used write.
#include "nurt/auth/api_key_service.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "manual_clock.hpp"
#include "seeded_random.hpp"
#include "temp_dir.hpp"

namespace nurt::auth {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

const std::string kMaster(64, '7');

class ApiKeyServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions o;
    o.path = dir_.File("nurt.db");
    o.fsync_on_commit = false;
    auto keys = store::NewSqliteKeyStore(o);
    ASSERT_TRUE(keys.ok()) << keys.status();
    keys_ = std::move(keys).value();
    ids_ = env::NewSeededUlidGenerator(&clock_, 7);
    service_ = std::make_unique<ApiKeyService>(keys_.get(), &clock_, &random_, ids_.get(), kMaster);
  }

  CreateKeyRequest Request(const std::string& name = "installer-app") {
    CreateKeyRequest r;
    r.org_id = "acme";
    r.name = name;
    r.role = "installer";
    r.scopes = {"webhooks:manage"};
    r.actor = "cli:alice";
    r.reason = "field app";
    return r;
  }

  IssuedKey MustCreate(const CreateKeyRequest& r) {
    auto k = service_->Create(r);
    EXPECT_TRUE(k.ok()) << k.status();
    return k.ok() ? *k : IssuedKey{};
  }

  std::vector<std::string> AuditActions() {
    std::vector<std::string> out;
    auto audit = service_->ListAudit("acme", 1000, "");  // kept: the loop reads into it
    EXPECT_TRUE(audit.ok()) << audit.status();
    if (audit.ok()) {
      for (const auto& a : *audit) out.push_back(a.action);
    }
    return out;
  }

  testing::TempDir dir_;
  testing::ManualClock clock_;
  testing::SeededRandom random_;
  std::unique_ptr<store::KeyStore> keys_;
  std::unique_ptr<env::IdGenerator> ids_;
  std::unique_ptr<ApiKeyService> service_;
};

TEST_F(ApiKeyServiceTest, CreateIssuesAUrlSafeTokenThatAuthenticates) {
  CreateKeyRequest r = Request();
  r.tier = "premium";
  const IssuedKey issued = MustCreate(r);
  EXPECT_THAT(issued.token, MatchesRegex("nurt_[0-9a-z]{12}_[0-9a-z]{52}"));
  EXPECT_EQ(issued.token.substr(5, 12), issued.record.prefix);
  EXPECT_EQ(issued.record.status, "active");
  EXPECT_EQ(issued.record.created_by, "cli:alice");
  EXPECT_THAT(issued.record.scopes, ElementsAre("webhooks:manage"));

  auto p = service_->Authenticate(issued.token);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->org_id, "acme");
  EXPECT_EQ(p->key_id, issued.record.id);
  EXPECT_EQ(p->key_name, "installer-app");
  EXPECT_EQ(p->role, "installer");
  EXPECT_EQ(p->tier, "premium");
  EXPECT_EQ(p->Actor(), "key:installer-app");
  EXPECT_THAT(p->scopes, ElementsAre("read:instances", "read:tasks", "tasks:complete",
                                     "webhooks:manage", "write:events"));
  EXPECT_TRUE(p->Allows("tasks:complete"));
  EXPECT_TRUE(p->Allows("read:instances"));
  EXPECT_FALSE(p->Allows("keys:manage"));
  EXPECT_FALSE(p->Allows("write:instances"));
}

TEST_F(ApiKeyServiceTest, TheSecretIsNeverStoredOrListed) {
  const IssuedKey issued = MustCreate(Request());
  const std::string secret = issued.token.substr(18);
  auto stored = keys_->FindKeyByPrefix(issued.record.prefix);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->secret_hash.size(), 64u);
  EXPECT_EQ(stored->secret_hash.find(secret), std::string::npos);
  EXPECT_THAT(service_->Get("acme", issued.record.id)->ToJson().dump(), Not(HasSubstr(secret)));
  EXPECT_THAT(service_->List("acme")->at(0).ToJson().dump(), Not(HasSubstr(stored->secret_hash)));
}

TEST_F(ApiKeyServiceTest, CreateValidatesItsInput) {
  auto expect_invalid = [&](CreateKeyRequest r, const std::string& text) {
    auto k = service_->Create(r);
    ASSERT_FALSE(k.ok()) << text;
    EXPECT_TRUE(k.status().IsInvalidArgument()) << k.status();
    EXPECT_THAT(k.status().message(), HasSubstr(text));
  };
  CreateKeyRequest r = Request("");
  expect_invalid(r, "1 to 100 characters");
  r = Request(std::string(101, 'n'));
  expect_invalid(r, "has 101");
  r = Request("line\nbreak");
  expect_invalid(r, "control character");
  r = Request();
  r.tier = "gold";
  expect_invalid(r, "unknown tier 'gold'");
  r = Request();
  r.role = "boss";
  expect_invalid(r, "roles are: architect, installer, coordinator, finance, admin");
  r = Request();
  r.scopes = {"read:task"};
  expect_invalid(r, "did you mean 'read:tasks'?");
  r = Request();
  r.scopes.clear();
  r.role.clear();
  expect_invalid(r, "at least one scope or a role");
  r = Request();
  r.expires_at = clock_.Now();
  expect_invalid(r, "is not in the future");
  r = Request();
  r.actor.clear();
  expect_invalid(r, "empty actor");
  EXPECT_TRUE(service_->List("acme")->empty());
  EXPECT_TRUE(AuditActions().empty());
  // 100 characters (not bytes) is fine.
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += "ł";
  EXPECT_TRUE(service_->Create(Request(hundred)).ok());
}

TEST_F(ApiKeyServiceTest, NamesAreUniquePerOrgUntilRevoked) {
  const IssuedKey first = MustCreate(Request("app"));
  auto dup = service_->Create(Request("app"));
  EXPECT_TRUE(dup.status().IsAlreadyExists()) << dup.status();
  ASSERT_TRUE(service_->Revoke("acme", first.record.id, "cli:alice", "replaced").ok());
  EXPECT_TRUE(service_->Create(Request("app")).ok());
}

TEST_F(ApiKeyServiceTest, UnknownPrefixAndWrongSecretGetTheSameAnswer) {
  const IssuedKey issued = MustCreate(Request());
  std::string wrong_secret = issued.token;
  wrong_secret.back() = wrong_secret.back() == 'a' ? 'b' : 'a';
  std::string unknown_prefix = issued.token;
  unknown_prefix[5] = unknown_prefix[5] == 'a' ? 'b' : 'a';
  auto a = service_->Authenticate(wrong_secret);
  auto b = service_->Authenticate(unknown_prefix);
  ASSERT_TRUE(a.status().IsUnauthenticated()) << a.status();
  ASSERT_TRUE(b.status().IsUnauthenticated()) << b.status();
  // The messages differ only in the prefix echoed back from the caller's own input.
  std::string a_msg = a.status().message(), b_msg = b.status().message();
  a_msg.replace(a_msg.find(issued.record.prefix), 12, "PREFIX");
  b_msg.replace(b_msg.find(unknown_prefix.substr(5, 12)), 12, "PREFIX");
  EXPECT_EQ(a_msg, b_msg);
  EXPECT_THAT(a_msg, Not(HasSubstr("installer-app")));
  EXPECT_THAT(a_msg, Not(HasSubstr("suspended")));
}

TEST_F(ApiKeyServiceTest, MalformedTokensAreRefused) {
  const IssuedKey issued = MustCreate(Request());
  for (const std::string& bad :
       {std::string(), std::string("nurt_"), issued.token.substr(0, issued.token.size() - 1),
        issued.token + "0", "Bearer " + issued.token, "xurt" + issued.token.substr(4),
        issued.token.substr(0, 17) + "-" + issued.token.substr(18),
        issued.token.substr(0, 20) + "I" + issued.token.substr(21)}) {
    auto p = service_->Authenticate(bad);
    EXPECT_TRUE(p.status().IsUnauthenticated()) << "'" << bad << "': " << p.status();
  }
  EXPECT_THAT(service_->Authenticate("nurt_x").status().message(), HasSubstr("malformed API key"));
}

TEST_F(ApiKeyServiceTest, SuspendActivateRevokeWithAuditAndHelpfulRefusals) {
  const IssuedKey issued = MustCreate(Request());
  const std::string id = issued.record.id;
  auto s = service_->Suspend("acme", id, "cli:bob", "lost phone");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->status, "suspended");
  auto refused = service_->Authenticate(issued.token);
  EXPECT_TRUE(refused.status().IsUnauthenticated());
  EXPECT_THAT(refused.status().message(), HasSubstr("is suspended; an admin can reactivate it"));
  EXPECT_THAT(refused.status().message(), HasSubstr("nurt_" + issued.record.prefix + "…"));
  EXPECT_TRUE(service_->Suspend("acme", id, "cli:bob", "").status().IsFailedPrecondition());

  ASSERT_TRUE(service_->Activate("acme", id, "cli:bob", "found it").ok());
  EXPECT_TRUE(service_->Authenticate(issued.token).ok());
  EXPECT_TRUE(service_->Activate("acme", id, "cli:bob", "").status().IsFailedPrecondition());

  ASSERT_TRUE(service_->Revoke("acme", id, "cli:bob", "left the company").ok());
  refused = service_->Authenticate(issued.token);
  EXPECT_THAT(refused.status().message(), HasSubstr("was revoked"));
  auto final_state = service_->Activate("acme", id, "cli:bob", "");
  EXPECT_TRUE(final_state.status().IsFailedPrecondition());
  EXPECT_THAT(final_state.status().message(), HasSubstr("revocation is final"));
  EXPECT_TRUE(service_->Regenerate("acme", id, "cli:bob", "").status().IsFailedPrecondition());
  EXPECT_TRUE(service_->Suspend("other-org", id, "cli:bob", "").status().IsNotFound());
  EXPECT_TRUE(service_->Suspend("acme", id, "", "").status().IsInvalidArgument());

  auto audit = service_->ListAudit("acme", 100, "");
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 4u);
  EXPECT_EQ((*audit)[0].action, "key.create");
  EXPECT_EQ((*audit)[0].actor, "cli:alice");
  EXPECT_EQ((*audit)[0].reason, "field app");
  EXPECT_EQ((*audit)[1].action, "key.suspend");
  EXPECT_EQ((*audit)[1].actor, "cli:bob");
  EXPECT_EQ((*audit)[1].target, id);
  EXPECT_EQ((*audit)[1].reason, "lost phone");
  EXPECT_EQ((*audit)[1].detail, (Json{{"from", "active"}, {"to", "suspended"}}));
  EXPECT_EQ((*audit)[2].action, "key.activate");
  EXPECT_EQ((*audit)[3].action, "key.revoke");
  EXPECT_TRUE(service_->ListAudit("other-org", 100, "")->empty());
}

TEST_F(ApiKeyServiceTest, RacingAdminsCannotUndoARevocation) {
  const IssuedKey issued = MustCreate(Request());
  const std::string id = issued.record.id;
  std::vector<std::thread> admins;
  for (int i = 0; i < 8; ++i) {
    admins.emplace_back([&, i] {
      const std::string actor = "cli:admin" + std::to_string(i);
      for (int round = 0; round < 10; ++round) {
        if (i == 0 && round == 5) {
          (void)service_->Revoke("acme", id, actor, "");
        } else if ((i + round) % 2 == 0) {
          (void)service_->Suspend("acme", id, actor, "");
        } else {
          (void)service_->Activate("acme", id, actor, "");
        }
      }
    });
  }
  for (auto& t : admins) t.join();
  EXPECT_EQ(service_->Get("acme", id)->status, "revoked");
  // The audit log tells one consistent story: each change starts where the previous one ended.
  std::string status = "active";
  auto audit = service_->ListAudit("acme", 1000, "");
  ASSERT_TRUE(audit.ok()) << audit.status();
  for (const auto& a : *audit) {
    if (a.action == "key.create") continue;
    EXPECT_EQ(a.detail["from"], status) << a.ToJson().dump();
    status = a.detail["to"];
  }
  EXPECT_EQ(status, "revoked");
}

// A KeyStore whose GetKey returns what it read and then lets "another admin" revoke the key, so the
// caller acts on a stale read: the window a real race opens, made deterministic.
class RevokedAfterRead final : public store::KeyStore {
 public:
  explicit RevokedAfterRead(store::KeyStore* inner) : inner_(inner) {}
  Result<KeyRecord> GetKey(const std::string& org_id, const std::string& id) override {
    auto read = inner_->GetKey(org_id, id);
    if (read.ok() && read->status != "revoked") {
      KeyRecord revoked = *read;
      revoked.status = "revoked";
      AuditRecord a;
      a.org_id = org_id;
      a.id = "01ZZZZZZZZZZZZZZZZZZZZZZZZ";
      a.actor = "cli:other-admin";
      a.action = "key.revoke";
      a.target = id;
      EXPECT_TRUE(inner_->UpdateKey(revoked, read->status, std::nullopt, a).ok());
    }
    return read;
  }
  Status InsertKey(const KeyRecord& k, const std::string& h, const AuditRecord& a) override {
    return inner_->InsertKey(k, h, a);
  }
  Result<store::StoredKey> FindKeyByPrefix(const std::string& p) override {
    return inner_->FindKeyByPrefix(p);
  }
  Result<std::vector<KeyRecord>> ListKeys(const std::string& o) override {
    return inner_->ListKeys(o);
  }
  Status UpdateKey(const KeyRecord& k, const std::string& e, const std::optional<std::string>& h,
                   const AuditRecord& a) override {
    return inner_->UpdateKey(k, e, h, a);
  }
  Status TouchKey(const std::string& o, const std::string& i, TimePoint t) override {
    return inner_->TouchKey(o, i, t);
  }
  Status AppendAudit(const AuditRecord& a) override { return inner_->AppendAudit(a); }
  Result<std::vector<AuditRecord>> ListAudit(const std::string& o, int l,
                                             const std::string& a) override {
    return inner_->ListAudit(o, l, a);
  }

 private:
  store::KeyStore* inner_;
};

TEST_F(ApiKeyServiceTest, AChangeBasedOnAStaleReadIsAConflictNotAnUndoneRevocation) {
  const std::string id = MustCreate(Request()).record.id;
  RevokedAfterRead racing(keys_.get());
  ApiKeyService stale(&racing, &clock_, &random_, ids_.get(), kMaster);
  auto suspended = stale.Suspend("acme", id, "cli:bob", "");
  EXPECT_TRUE(suspended.status().IsConflict()) << suspended.status();
  EXPECT_THAT(suspended.status().message(), HasSubstr("changed meanwhile"));
  EXPECT_EQ(service_->Get("acme", id)->status, "revoked");
  EXPECT_TRUE(stale.Regenerate("acme", id, "cli:bob", "").status().IsFailedPrecondition());
}

TEST_F(ApiKeyServiceTest, RegenerateReplacesTheSecretKeepingTheKey) {
  const IssuedKey issued = MustCreate(Request());
  auto again = service_->Regenerate("acme", issued.record.id, "cli:alice", "leaked in a log");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_NE(again->token, issued.token);
  EXPECT_EQ(again->record.id, issued.record.id);
  EXPECT_EQ(again->token.substr(0, 18), issued.token.substr(0, 18));  // same prefix
  EXPECT_TRUE(service_->Authenticate(issued.token).status().IsUnauthenticated());
  EXPECT_TRUE(service_->Authenticate(again->token).ok());
  EXPECT_THAT(AuditActions(), ElementsAre("key.create", "key.regenerate"));
}

TEST_F(ApiKeyServiceTest, ExpiredKeysAreRefusedFromTheirExpiryOn) {
  CreateKeyRequest r = Request();
  r.expires_at = clock_.Now() + hours(24);
  const IssuedKey issued = MustCreate(r);
  clock_.Advance(hours(24) - std::chrono::milliseconds(1));
  EXPECT_TRUE(service_->Authenticate(issued.token).ok());
  clock_.Advance(std::chrono::milliseconds(1));
  auto refused = service_->Authenticate(issued.token);
  EXPECT_TRUE(refused.status().IsUnauthenticated());
  EXPECT_THAT(refused.status().message(), HasSubstr("expired at 2026-01-02T00:00:00.000Z"));

  // An admin extends it; then removes the expiry altogether.
  auto extended =
      service_->SetExpiry("acme", issued.record.id, clock_.Now() + hours(1), "cli:a", "");
  ASSERT_TRUE(extended.ok()) << extended.status();
  EXPECT_TRUE(service_->Authenticate(issued.token).ok());
  ASSERT_TRUE(service_->SetExpiry("acme", issued.record.id, std::nullopt, "cli:a", "").ok());
  clock_.Advance(hours(24 * 365));
  EXPECT_TRUE(service_->Authenticate(issued.token).ok());
  EXPECT_TRUE(service_->SetExpiry("acme", issued.record.id, clock_.Now(), "cli:a", "")
                  .status()
                  .IsInvalidArgument());
  EXPECT_THAT(AuditActions(), ElementsAre("key.create", "key.expiry", "key.expiry"));
}

TEST_F(ApiKeyServiceTest, LastUsedIsWrittenAtMostOncePerMinute) {
  const IssuedKey issued = MustCreate(Request());
  EXPECT_FALSE(service_->Get("acme", issued.record.id)->last_used_at.has_value());
  const TimePoint first = clock_.Now();
  ASSERT_TRUE(service_->Authenticate(issued.token).ok());
  EXPECT_EQ(service_->Get("acme", issued.record.id)->last_used_at, first);
  clock_.Advance(seconds(59));
  ASSERT_TRUE(service_->Authenticate(issued.token).ok());
  EXPECT_EQ(service_->Get("acme", issued.record.id)->last_used_at, first);
  clock_.Advance(seconds(1));
  ASSERT_TRUE(service_->Authenticate(issued.token).ok());
  EXPECT_EQ(service_->Get("acme", issued.record.id)->last_used_at, first + seconds(60));

  // A second service (another process) reads the stored time and does not write again either.
  ApiKeyService other(keys_.get(), &clock_, &random_, ids_.get(), kMaster);
  clock_.Advance(seconds(30));
  ASSERT_TRUE(other.Authenticate(issued.token).ok());
  EXPECT_EQ(service_->Get("acme", issued.record.id)->last_used_at, first + seconds(60));
}

TEST_F(ApiKeyServiceTest, AnotherMasterSecretRejectsEveryKey) {
  const IssuedKey issued = MustCreate(Request());
  ApiKeyService other(keys_.get(), &clock_, &random_, ids_.get(), std::string(64, '8'));
  EXPECT_TRUE(other.Authenticate(issued.token).status().IsUnauthenticated());
}

TEST_F(ApiKeyServiceTest, AuditRecordsOtherAdminActions) {
  AuditRecord a;
  a.org_id = "acme";
  a.actor = "key:ops";
  a.action = "instance.cancel";
  a.target = "01INSTANCE";
  a.reason = "duplicate order";
  ASSERT_TRUE(service_->Audit(a).ok());
  auto listed = service_->ListAudit("acme", 10, "");
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id.size(), 26u);
  EXPECT_EQ((*listed)[0].occurred_at, clock_.Now());
  EXPECT_EQ((*listed)[0].reason, "duplicate order");
  a.actor.clear();
  EXPECT_TRUE(service_->Audit(a).IsInvalidArgument());
}

}  // namespace
}  // namespace nurt::auth
