// SqliteStore: the conformance suite on SQLite, plus what only SQLite has — the schema migrations
// and their version check, the file-level checks at open, WAL, busy handling, the statement cache,
// and one transaction per batch.
#include "store/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "store/sqlite_schema.hpp"
#include "store/sqlite_statements.hpp"
#include "temp_dir.hpp"
#include "tests/engine/store/store_conformance.hpp"

namespace nurt::store {
namespace {

// A raw connection for poking at the file from outside the store.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path;
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // Runs `sql`; returns its rows, columns joined by '|' and rows by '\n' ("" when no rows), or
  // "ERROR: …".
  std::string Query(const std::string& sql) {
    std::string out;
    char* err = nullptr;
    auto collect = [](void* arg, int columns, char** values, char**) {
      auto* s = static_cast<std::string*>(arg);
      if (!s->empty()) s->push_back('\n');
      for (int i = 0; i < columns; ++i) {
        if (i > 0) s->push_back('|');
        s->append(values[i] != nullptr ? values[i] : "NULL");
      }
      return 0;
    };
    if (sqlite3_exec(db_, sql.c_str(), collect, &out, &err) != SQLITE_OK) {
      out = std::string("ERROR: ") + (err != nullptr ? err : "?");
      sqlite3_free(err);
    }
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteHarness final : public StoreHarness {
 public:
  Result<std::unique_ptr<Store>> Open() override {
    SqliteOptions options;
    options.path = path();
    options.fsync_on_commit = true;
    return NewSqliteStore(options);
  }

  Status CheckIntegrity() override {
    RawDb db(path());
    const std::string integrity = db.Query("PRAGMA integrity_check");
    if (integrity != "ok") return Status::DataLoss("integrity_check: " + integrity);
    const std::string fk = db.Query("PRAGMA foreign_key_check");
    if (!fk.empty()) return Status::DataLoss("foreign_key_check: " + fk);
    return Status::Ok();
  }

  std::string path() const { return dir_.File("nurt.db"); }

 private:
  testing::TempDir dir_;
};

StoreFactory SqliteFactory() {
  return StoreFactory{"Sqlite", [] { return std::make_unique<SqliteHarness>(); }};
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest, ::testing::Values(SqliteFactory()),
                         StoreFactoryName);

// ---------------------------------------------------------------------------------------------------

class SqliteStoreTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<SqliteStore>> Open(int busy_timeout_ms = 5000) {
    SqliteOptions options;
    options.path = path();
    options.fsync_on_commit = false;
    options.busy_timeout_ms = busy_timeout_ms;
    return SqliteStore::Open(options);
  }
  std::string path() const { return dir_.File("nurt.db"); }

  testing::TempDir dir_;
};

CommitRequest Start(const std::string& id, std::int64_t from = 0) {
  const std::int64_t v = from + 1;
  const std::string tag = id + "-" + std::to_string(v);
  CommitRequest r;
  r.org_id = "acme";
  r.instance_id = id;
  r.expected_version = from;
  r.instance = InstanceRecord{
      "acme",           id, "order", 1, "active", {"open"}, Json{{"v", v}}, v, FromUnixMillis(v),
      FromUnixMillis(v)};
  EventEnvelope e;
  e.id = "evt-" + tag;
  e.org_id = "acme";
  e.entity_type = "order";
  e.entity_id = id;
  e.type = "tick";
  e.sequence = v;
  r.events = {e};
  TransitionRecord t;
  t.event_sequence = v;
  r.transitions = {t};
  OutboxItem o;
  o.id = "out-" + tag;
  o.org_id = "acme";
  o.instance_id = id;
  o.event_sequence = v;
  o.kind = "nurt.send";
  o.idempotency_key = "fx-" + tag;
  r.outbox = {o};
  r.idempotency =
      IdempotencyRecord{"acme", id, "key-" + tag, "hash", Json::object(), FromUnixMillis(v)};
  return r;
}

TEST_F(SqliteStoreTest, FreshDatabaseIsMarkedMigratedAndInWalMode) {
  ASSERT_TRUE(Open().ok());
  ASSERT_TRUE(Open().ok());  // reopening applies nothing twice
  RawDb db(path());
  EXPECT_EQ(db.Query("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(db.Query("PRAGMA application_id"), std::to_string(sqlite::kApplicationId));
  std::string every_version;  // "1,2,...": one row per migration this binary knows
  for (const auto& m : sqlite::Migrations()) {
    every_version += (every_version.empty() ? "" : ",") + std::to_string(m.version);
  }
  EXPECT_EQ(db.Query("SELECT group_concat(version) FROM "
                     "(SELECT version FROM schema_migrations ORDER BY version)"),
            every_version);
  EXPECT_EQ(db.Query("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                     "('definitions', 'instances', 'instance_states', 'events', 'transitions', "
                     "'outbox', 'idempotency', 'tasks', 'schema_migrations')"),
            "9");
  // Every nurt table carries org_id (except bookkeeping of the whole database: the migrations, and
  // the rules evaluators' cursors over the feed of all orgs' events, and the integration log's
  // full-text index, whose rows are integration_log rows by rowid).
  EXPECT_EQ(db.Query("SELECT group_concat(m.name) FROM sqlite_master m WHERE m.type = 'table' AND "
                     "m.name NOT IN ('schema_migrations', 'rule_cursors') AND m.name NOT LIKE 'sqlite_%' AND "
                     "m.name NOT LIKE 'integration_log_fts%' AND NOT "
                     "EXISTS (SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = 'org_id')"),
            "NULL");
}

TEST_F(SqliteStoreTest, NewerSchemaThanTheBinaryIsDataLossWithAdvice) {
  ASSERT_TRUE(Open().ok());
  const std::int64_t future = sqlite::LatestSchemaVersion() + 1;
  {
    RawDb db(path());
    ASSERT_EQ(db.Query("INSERT INTO schema_migrations VALUES (" + std::to_string(future) +
                       ", 'from the future', 0)"),
              "");
  }
  auto opened = Open();
  ASSERT_FALSE(opened.ok());
  const Status& st = opened.status();
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st;
  EXPECT_NE(st.message().find("schema version " + std::to_string(future)), std::string::npos) << st;
  EXPECT_NE(st.message().find("newer nurt"), std::string::npos) << st;
  EXPECT_NE(st.message().find(path()), std::string::npos) << st;
  // And the refusal changed nothing: the row is still there, nothing was "downgraded".
  RawDb db(path());
  EXPECT_EQ(db.Query("SELECT max(version) FROM schema_migrations"), std::to_string(future));
}

// Migrations are applied by membership, not by "above the highest applied": when branches developed
// side by side add migrations, a database holding 1, 2 and 4 must still get 3.
TEST_F(SqliteStoreTest, MigrationsMissingBelowTheHighestAppliedAreAppliedInOrder) {
  ASSERT_TRUE(Open().ok());
  {
    // As if written by a binary that did not know migration 3 (nor anything above it).
    RawDb db(path());
    ASSERT_EQ(db.Query("DROP TABLE tasks"), "");
    ASSERT_EQ(db.Query("DELETE FROM schema_migrations WHERE version = 3"), "");
  }
  ASSERT_TRUE(Open().ok());
  RawDb db(path());
  EXPECT_EQ(db.Query("SELECT count(*) FROM sqlite_master WHERE name = 'tasks'"), "1");
  EXPECT_EQ(db.Query("SELECT name FROM schema_migrations WHERE version = 3"), "human tasks");
  EXPECT_EQ(db.Query("SELECT count(*) FROM schema_migrations"), std::to_string(sqlite::Migrations().size()));
}

TEST_F(SqliteStoreTest, AnAppliedMigrationThisBinaryDoesNotKnowIsDataLoss) {
  ASSERT_TRUE(Open().ok());
  const std::int64_t unknown = 0;  // below the latest, so only the membership check can catch it
  {
    RawDb db(path());
    ASSERT_EQ(db.Query("INSERT INTO schema_migrations VALUES (" + std::to_string(unknown) +
                       ", 'from another build', 0)"),
              "");
  }
  auto opened = Open();
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss) << opened.status();
  EXPECT_NE(opened.status().message().find("migration " + std::to_string(unknown)), std::string::npos)
      << opened.status();
}

TEST_F(SqliteStoreTest, ForeignSqliteFileIsDataLoss) {
  {
    RawDb db(path());
    ASSERT_EQ(db.Query("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"), "");
  }
  auto opened = Open();
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss) << opened.status();
  EXPECT_NE(opened.status().message().find("not a nurt database"), std::string::npos);
  RawDb db(path());
  EXPECT_EQ(db.Query("SELECT count(*) FROM sqlite_master WHERE name = 'instances'"), "0");
}

TEST_F(SqliteStoreTest, FileThatIsNotSqliteIsDataLoss) {
  {
    std::ofstream f(path(), std::ios::binary);
    f << std::string(8192, 'g');
  }
  auto opened = Open();
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss) << opened.status();
}

TEST_F(SqliteStoreTest, BadPathsAreRefusedAtOpen) {
  SqliteOptions options;
  options.path = "";
  EXPECT_TRUE(NewSqliteStore(options).status().IsInvalidArgument());
  options.path = dir_.File("no/such/dir/nurt.db");
  EXPECT_TRUE(NewSqliteStore(options).status().IsUnavailable());
  options.path = ":memory:";  // no WAL, and every connection would see its own database
  EXPECT_TRUE(NewSqliteStore(options).status().IsUnavailable());
}

TEST_F(SqliteStoreTest, LockedDatabaseIsUnavailableAndNothingIsWritten) {
  auto opened = Open(/*busy_timeout_ms=*/20);
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<SqliteStore> store = std::move(opened).value();
  ASSERT_TRUE(store->Commit(Start("I1")).ok());
  {
    RawDb other(path());  // another process' writer, say
    ASSERT_EQ(other.Query("BEGIN IMMEDIATE"), "");
    Status st = store->Commit(Start("I1", 1));
    EXPECT_TRUE(st.IsUnavailable()) << st;
    EXPECT_NE(st.message().find("retry"), std::string::npos) << st;
    std::vector<Status> statuses;
    Status batch = store->CommitBatch({Start("I2"), Start("I3")}, &statuses);
    EXPECT_TRUE(batch.IsUnavailable()) << batch;
    ASSERT_EQ(statuses.size(), 2u);
    EXPECT_TRUE(statuses[0].IsUnavailable() && statuses[1].IsUnavailable());
    // Readers are not blocked by a writer (WAL).
    auto rec = store->GetInstance("acme", "I1");
    ASSERT_TRUE(rec.ok()) << rec.status();
    EXPECT_EQ(rec->version, 1);
    ASSERT_EQ(other.Query("ROLLBACK"), "");
  }
  EXPECT_EQ(store->GetInstance("acme", "I1")->version, 1);
  EXPECT_TRUE(store->GetInstance("acme", "I2").status().IsNotFound());
  EXPECT_TRUE(store->Commit(Start("I1", 1)).ok());  // the same request, once the lock is gone
}

TEST_F(SqliteStoreTest, HotPathNeverPreparesAgain) {
  auto opened = Open();
  ASSERT_TRUE(opened.ok());
  std::unique_ptr<SqliteStore> store = std::move(opened).value();
  ASSERT_TRUE(store->Commit(Start("I1")).ok());
  ASSERT_TRUE(store->Commit(Start("I1", 1)).ok());
  const std::int64_t warm = store->WriterStatementsPrepared();
  for (int v = 2; v < 50; ++v) ASSERT_TRUE(store->Commit(Start("I1", v)).ok());
  EXPECT_EQ(store->WriterStatementsPrepared(), warm);
}

TEST_F(SqliteStoreTest, CommitBatchIsOneTransaction) {
  auto opened = Open();
  ASSERT_TRUE(opened.ok());
  std::unique_ptr<SqliteStore> store = std::move(opened).value();
  const std::int64_t before = store->WriterTransactionsCommitted();
  std::vector<CommitRequest> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(Start("I" + std::to_string(i)));
  batch.push_back(Start("I3"));  // fails alone (AlreadyExists) inside the same transaction
  std::vector<Status> statuses;
  ASSERT_TRUE(store->CommitBatch(batch, &statuses).ok());
  EXPECT_TRUE(statuses.back().IsAlreadyExists()) << statuses.back();
  EXPECT_EQ(store->WriterTransactionsCommitted(), before + 1);
  ASSERT_TRUE(store->Commit(Start("I0", 1)).ok());
  EXPECT_EQ(store->WriterTransactionsCommitted(), before + 2);
}

TEST_F(SqliteStoreTest, DamagedJsonInARowIsDataLossOnRead) {
  auto opened = Open();
  ASSERT_TRUE(opened.ok());
  std::unique_ptr<SqliteStore> store = std::move(opened).value();
  ASSERT_TRUE(store->Commit(Start("I1")).ok());
  {
    RawDb db(path());
    ASSERT_EQ(db.Query("UPDATE instances SET snapshot = '{\"v\": ' WHERE id = 'I1'"), "");
  }
  auto rec = store->GetInstance("acme", "I1");
  ASSERT_FALSE(rec.ok());
  EXPECT_EQ(rec.status().code(), StatusCode::kDataLoss) << rec.status();
  EXPECT_NE(rec.status().message().find("I1"), std::string::npos);
}

TEST_F(SqliteStoreTest, MigrationTwoIndexesTheCompoundStatesOfExistingInstances) {
  {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.status();
    CommitRequest r;
    r.org_id = "acme";
    r.instance_id = "I1";
    r.instance.org_id = "acme";
    r.instance.id = "I1";
    r.instance.machine = "order";
    r.instance.machine_version = 1;
    r.instance.run_status = "active";
    r.instance.state = {"checking"};
    r.instance.snapshot = Json{{"configuration", {"review", "checking"}}, {"context", Json::object()}};
    r.instance.version = 1;
    EventEnvelope e;
    e.id = "E1";
    e.org_id = "acme";
    e.type = "nurt.start";
    e.actor = "system";
    e.entity_type = "order";
    e.entity_id = "I1";
    e.idempotency_key = "k1";
    e.sequence = 1;
    r.events = {e};
    ASSERT_TRUE((*store)->Commit(r).ok());
  }
  {
    // Back to what a database before migration 4 holds: atomic states only.
    RawDb db(path());
    EXPECT_EQ(db.Query("DELETE FROM instance_states WHERE state = 'review'"), "");
    EXPECT_EQ(db.Query("DELETE FROM schema_migrations WHERE version = 4"), "");
  }
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  InstanceFilter f;
  f.state = "review";
  auto listed = (*store)->ListInstances("acme", f);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, "I1");
}

TEST_F(SqliteStoreTest, ReadQueriesUseIndexesAndNeedNoSort) {
  ASSERT_TRUE(Open().ok());
  RawDb db(path());
  using namespace sqlite::sql;  // NOLINT(google-build-using-namespace)
  for (const char* sql : {kGetInstance, kSelectVersionAndState, kListInstancesByState,
                          kListInstancesByMachine, kListInstancesByRunStatus, kListInstancesAll,
                          kFindIdempotency, kListEvents, kListTransitions, kGetLatestDefinition,
                          kListDefinitions, kListPendingOutbox, kOutboxStatus, kDefinitionHash,
                          kGetTask, kListTasksByInstance, kListActiveTasksByUser,
                          kListActiveTasksByRole, kListActiveTasks, kListTasksByStatus,
                          kListTasksAll}) {
    const std::string plan = db.Query(std::string("EXPLAIN QUERY PLAN ") + sql);
    SCOPED_TRACE(std::string(sql) + "\n" + plan);
    EXPECT_EQ(plan.find("ERROR"), std::string::npos);
    // "SCAN t" without "USING ... INDEX" is a full table scan; a TEMP B-TREE is a sort per query.
    std::size_t at = 0;
    while ((at = plan.find("SCAN ", at)) != std::string::npos) {
      const std::size_t eol = plan.find('\n', at);
      const std::string line = plan.substr(at, eol == std::string::npos ? eol : eol - at);
      const bool scans_json_each = line.find("json_each") != std::string::npos;
      EXPECT_TRUE(scans_json_each || line.find("INDEX") != std::string::npos) << line;
      at += 5;
    }
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos);
  }
}

}  // namespace
}  // namespace nurt::store
