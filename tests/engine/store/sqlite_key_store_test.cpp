// SqliteKeyStore on a real file: migration 2 next to the main store, insert/find/list/update with
// their audit records in the same transaction, the per-org name rule (revoked names are reusable),
// unique prefixes, last-used touches and audit paging.
#include <gtest/gtest.h>

#include "nurt/store/key_store.hpp"
#include "nurt/store/store.hpp"
#include "temp_dir.hpp"

namespace nurt::store {
namespace {

KeyRecord Key(const std::string& id, const std::string& name, const std::string& prefix,
              const std::string& org = "acme") {
  KeyRecord k;
  k.org_id = org;
  k.id = id;
  k.prefix = prefix;
  k.name = name;
  k.scopes = {"read:instances", "write:events"};
  k.role = "installer";
  k.tier = "standard";
  k.status = "active";
  k.created_at = FromUnixMillis(1000);
  k.created_by = "cli:alice";
  return k;
}

AuditRecord Audit(const std::string& id, const std::string& action, const std::string& target,
                  const std::string& org = "acme") {
  AuditRecord a;
  a.org_id = org;
  a.id = id;
  a.occurred_at = FromUnixMillis(2000);
  a.actor = "cli:alice";
  a.action = action;
  a.target = target;
  a.reason = "because";
  a.detail = Json{{"n", 1}};
  return a;
}

class SqliteKeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteOptions o;
    o.path = dir_.File("nurt.db");
    o.fsync_on_commit = false;
    // The main store and the key store share the file, opened in either order.
    auto main_store = NewSqliteStore(o);
    ASSERT_TRUE(main_store.ok()) << main_store.status();
    main_store_ = std::move(main_store).value();
    auto keys = NewSqliteKeyStore(o);
    ASSERT_TRUE(keys.ok()) << keys.status();
    keys_ = std::move(keys).value();
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> main_store_;
  std::unique_ptr<KeyStore> keys_;
};

TEST_F(SqliteKeyStoreTest, InsertThenFindByPrefixGetAndListRoundTrip) {
  KeyRecord k = Key("01K0", "installer-app", "pfx000000001");
  k.expires_at = FromUnixMillis(5000);
  ASSERT_TRUE(keys_->InsertKey(k, "hash-1", Audit("01A0", "key.create", "01K0")).ok());

  auto found = keys_->FindKeyByPrefix("pfx000000001");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->secret_hash, "hash-1");
  EXPECT_EQ(found->record.ToJson(), k.ToJson());

  auto got = keys_->GetKey("acme", "01K0");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->ToJson(), k.ToJson());
  EXPECT_FALSE(got->ToJson().dump().find("hash-1") != std::string::npos);

  EXPECT_TRUE(keys_->GetKey("other", "01K0").status().IsNotFound());
  EXPECT_TRUE(keys_->FindKeyByPrefix("nope").status().IsNotFound());

  auto list = keys_->ListKeys("acme");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_TRUE(keys_->ListKeys("other")->empty());

  auto audit = keys_->ListAudit("acme", 10, "");
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0].ToJson(), Audit("01A0", "key.create", "01K0").ToJson());
}

TEST_F(SqliteKeyStoreTest, NameIsUniquePerOrgAmongKeysThatAreNotRevoked) {
  ASSERT_TRUE(
      keys_->InsertKey(Key("01K1", "app", "pfx000000001"), "h", Audit("01A1", "c", "x")).ok());
  Status dup = keys_->InsertKey(Key("01K2", "app", "pfx000000002"), "h", Audit("01A2", "c", "x"));
  EXPECT_TRUE(dup.IsAlreadyExists()) << dup;
  EXPECT_NE(dup.message().find("'app'"), std::string::npos) << dup;
  // The failed insert wrote no audit record either.
  EXPECT_EQ(keys_->ListAudit("acme", 10, "")->size(), 1u);
  // Another org may use the name.
  EXPECT_TRUE(keys_
                  ->InsertKey(Key("01K3", "app", "pfx000000003", "beta"), "h",
                              Audit("01A3", "c", "x", "beta"))
                  .ok());
  // Once revoked, the name is free again.
  KeyRecord revoked = Key("01K1", "app", "pfx000000001");
  revoked.status = "revoked";
  ASSERT_TRUE(
      keys_->UpdateKey(revoked, "active", std::nullopt, Audit("01A4", "key.revoke", "01K1")).ok());
  EXPECT_TRUE(
      keys_->InsertKey(Key("01K4", "app", "pfx000000004"), "h", Audit("01A5", "c", "x")).ok());
}

TEST_F(SqliteKeyStoreTest, PrefixIsUniqueAcrossOrgs) {
  ASSERT_TRUE(
      keys_->InsertKey(Key("01K1", "a", "pfx000000001"), "h", Audit("01A1", "c", "x")).ok());
  Status st = keys_->InsertKey(Key("01K2", "b", "pfx000000001", "beta"), "h",
                               Audit("01A2", "c", "x", "beta"));
  EXPECT_TRUE(st.IsAlreadyExists()) << st;
}

TEST_F(SqliteKeyStoreTest, UpdateChangesStatusExpiryAndHashOnlyWithItsAuditRecord) {
  ASSERT_TRUE(
      keys_->InsertKey(Key("01K1", "a", "pfx000000001"), "h1", Audit("01A1", "c", "x")).ok());
  KeyRecord k = Key("01K1", "renamed-ignored", "pfx000000001");
  k.status = "suspended";
  k.expires_at = FromUnixMillis(9000);
  ASSERT_TRUE(
      keys_->UpdateKey(k, "active", std::string("h2"), Audit("01A2", "key.suspend", "01K1")).ok());
  auto found = keys_->FindKeyByPrefix("pfx000000001");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->record.status, "suspended");
  EXPECT_EQ(found->record.name, "a");
  EXPECT_EQ(found->record.expires_at, FromUnixMillis(9000));
  EXPECT_EQ(found->secret_hash, "h2");

  k.expires_at.reset();
  ASSERT_TRUE(
      keys_->UpdateKey(k, "suspended", std::nullopt, Audit("01A3", "key.expiry", "01K1")).ok());
  found = keys_->FindKeyByPrefix("pfx000000001");
  EXPECT_FALSE(found->record.expires_at.has_value());
  EXPECT_EQ(found->secret_hash, "h2");

  KeyRecord missing = Key("01K9", "zzz", "pfx000000009");
  Status st =
      keys_->UpdateKey(missing, "active", std::nullopt, Audit("01A4", "key.suspend", "01K9"));
  EXPECT_TRUE(st.IsNotFound()) << st;
  EXPECT_EQ(keys_->ListAudit("acme", 10, "")->size(), 3u);  // not 4: the failed update rolled back
}

TEST_F(SqliteKeyStoreTest, UpdateIsACompareAndSetOnTheStatus) {
  ASSERT_TRUE(
      keys_->InsertKey(Key("01K1", "a", "pfx000000001"), "h1", Audit("01A1", "c", "x")).ok());
  KeyRecord revoked = Key("01K1", "a", "pfx000000001");
  revoked.status = "revoked";
  ASSERT_TRUE(keys_->UpdateKey(revoked, "active", std::nullopt, Audit("01A2", "r", "01K1")).ok());
  // A second admin read the key while it was active and now suspends it: refused, nothing written.
  KeyRecord suspended = Key("01K1", "a", "pfx000000001");
  suspended.status = "suspended";
  Status st = keys_->UpdateKey(suspended, "active", std::string("h9"), Audit("01A3", "s", "01K1"));
  EXPECT_TRUE(st.IsConflict()) << st;
  EXPECT_NE(st.message().find("it is revoked, not active"), std::string::npos) << st;
  auto found = keys_->FindKeyByPrefix("pfx000000001");
  EXPECT_EQ(found->record.status, "revoked");
  EXPECT_EQ(found->secret_hash, "h1");
  EXPECT_EQ(keys_->ListAudit("acme", 10, "")->size(), 2u);
}

TEST_F(SqliteKeyStoreTest, TouchSetsLastUsed) {
  ASSERT_TRUE(
      keys_->InsertKey(Key("01K1", "a", "pfx000000001"), "h", Audit("01A1", "c", "x")).ok());
  ASSERT_TRUE(keys_->TouchKey("acme", "01K1", FromUnixMillis(7777)).ok());
  EXPECT_EQ(keys_->GetKey("acme", "01K1")->last_used_at, FromUnixMillis(7777));
}

TEST_F(SqliteKeyStoreTest, AuditPagesByIdAndStaysInItsOrg) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(keys_->AppendAudit(Audit("01A" + std::to_string(i), "instance.cancel", "i")).ok());
  }
  ASSERT_TRUE(keys_->AppendAudit(Audit("01A9", "instance.cancel", "i", "beta")).ok());
  auto page1 = keys_->ListAudit("acme", 2, "");
  ASSERT_TRUE(page1.ok());
  ASSERT_EQ(page1->size(), 2u);
  EXPECT_EQ((*page1)[1].id, "01A1");
  auto rest = keys_->ListAudit("acme", 100, (*page1)[1].id);
  ASSERT_EQ(rest->size(), 3u);
  EXPECT_EQ((*rest)[0].id, "01A2");
  EXPECT_EQ((*rest)[2].id, "01A4");
  EXPECT_TRUE(keys_->ListAudit("acme", 0, "").status().IsInvalidArgument());
  EXPECT_TRUE(keys_->ListAudit("acme", 1001, "").status().IsInvalidArgument());
}

TEST_F(SqliteKeyStoreTest, KeyStoreOpenedFirstCreatesAndMigratesTheFile) {
  SqliteOptions o;
  o.path = dir_.File("fresh.db");
  auto keys = NewSqliteKeyStore(o);
  ASSERT_TRUE(keys.ok()) << keys.status();
  auto main_store = NewSqliteStore(o);
  ASSERT_TRUE(main_store.ok()) << main_store.status();
  EXPECT_TRUE((*keys)->ListKeys("acme")->empty());
}

}  // namespace
}  // namespace nurt::store
