// KeyStore on SQLite: one connection of its own to the nurt database, guarded by a mutex. Key
// traffic is light (a lookup per authenticated request goes through ApiKeyService's callers; writes
// are admin actions and a last-used touch at most once a minute per key), so one connection is
// enough.

#include <mutex>
#include <utility>

#include "nurt/store/key_store.hpp"
#include "store/sqlite_connection.hpp"
#include "store/sqlite_schema.hpp"

namespace nurt::store {
namespace {

using sqlite::Connection;
using sqlite::ConnectionOptions;
using sqlite::Query;
using sqlite::WriteTransaction;

#define NURT_KEY_COLUMNS                                                                       \
  "org_id, id, prefix, name, scopes, role, tier, status, created_at, created_by, expires_at, " \
  "last_used_at, secret_hash"
constexpr const char* kInsertKey =
    "INSERT INTO api_keys (org_id, id, prefix, secret_hash, name, scopes, role, tier, status, "
    "created_at, created_by, expires_at, last_used_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, NULL, ?10)";
constexpr const char* kFindKeyByPrefix =
    "SELECT " NURT_KEY_COLUMNS " FROM api_keys WHERE prefix = ?1";
constexpr const char* kGetKey =
    "SELECT " NURT_KEY_COLUMNS " FROM api_keys WHERE org_id = ?1 AND id = ?2";
constexpr const char* kListKeys =
    "SELECT " NURT_KEY_COLUMNS " FROM api_keys WHERE org_id = ?1 ORDER BY id";
#undef NURT_KEY_COLUMNS
constexpr const char* kUpdateKey =
    "UPDATE api_keys SET status = ?3, expires_at = ?4, updated_at = ?5, "
    "secret_hash = coalesce(?6, secret_hash) WHERE org_id = ?1 AND id = ?2 AND status = ?7";
constexpr const char* kKeyStatus = "SELECT status FROM api_keys WHERE org_id = ?1 AND id = ?2";
constexpr const char* kTouchKey =
    "UPDATE api_keys SET last_used_at = ?3 WHERE org_id = ?1 AND id = ?2";
constexpr const char* kInsertAudit =
    "INSERT INTO audit_log (org_id, id, occurred_at, actor, action, target, reason, detail) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr const char* kListAudit =
    "SELECT org_id, id, occurred_at, actor, action, target, reason, detail FROM audit_log "
    "WHERE org_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3";

void BindOptionalTime(Query& q, int index, const std::optional<TimePoint>& t) {
  if (t) {
    q.Bind(index, ToUnixMillis(*t));
  } else {
    q.BindNull(index);
  }
}

std::optional<TimePoint> OptionalTimeColumn(const Query& q, int column) {
  if (q.IsNull(column)) return std::nullopt;
  return FromUnixMillis(q.Int64(column));
}

Result<StoredKey> ReadKey(const Query& q, const std::string& path) {
  StoredKey k;
  KeyRecord& r = k.record;
  r.org_id = q.Text(0);
  r.id = q.Text(1);
  r.prefix = q.Text(2);
  r.name = q.Text(3);
  auto scopes = ParseJson(q.Text(4), "api_keys.scopes");
  if (!scopes.ok() || !scopes->is_array()) {
    return Status::DataLoss(
        "api key " + r.id + " in '" + path +
        "' has damaged scopes (not a JSON array); revoke it and create a new one");
  }
  for (const Json& s : *scopes) {
    if (s.is_string()) r.scopes.push_back(s.get<std::string>());
  }
  r.role = q.Text(5);
  r.tier = q.Text(6);
  r.status = q.Text(7);
  r.created_at = FromUnixMillis(q.Int64(8));
  r.created_by = q.Text(9);
  r.expires_at = OptionalTimeColumn(q, 10);
  r.last_used_at = OptionalTimeColumn(q, 11);
  k.secret_hash = q.Text(12);
  return k;
}

class SqliteKeyStore final : public KeyStore {
 public:
  explicit SqliteKeyStore(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}

  Status InsertKey(const KeyRecord& key, const std::string& secret_hash,
                   const AuditRecord& audit) override {
    std::lock_guard<std::mutex> lock(mu_);
    WriteTransaction tx(conn_.get());
    NURT_RETURN_IF_ERROR(tx.Begin("starting to create API key '" + key.name + "'"));
    {
      NURT_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kInsertKey));
      q.Bind(1, key.org_id).Bind(2, key.id).Bind(3, key.prefix).Bind(4, secret_hash);
      q.Bind(5, key.name).Bind(6, Json(key.scopes).dump()).Bind(7, key.role).Bind(8, key.tier);
      q.Bind(9, key.status).Bind(10, ToUnixMillis(key.created_at)).Bind(11, key.created_by);
      BindOptionalTime(q, 12, key.expires_at);
      const int rc = q.Step();
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        const std::string detail = sqlite3_errmsg(conn_->db());
        if (detail.find("api_keys.prefix") != std::string::npos ||
            detail.find("api_keys.id") != std::string::npos) {
          // 60 random bits of prefix make this a once-in-a-lifetime event; creating again fixes it.
          return Status::AlreadyExists("the new API key's prefix or id '" + key.prefix + "' / '" +
                                       key.id + "' is already taken; create the key again");
        }
        return Status::AlreadyExists(
            "org '" + key.org_id + "' already has an API key named '" + key.name +
            "' that is not revoked; choose another name or revoke that key "
            "first");
      }
      if (rc != SQLITE_DONE) return conn_->Error(rc, "creating API key '" + key.name + "'");
    }
    NURT_RETURN_IF_ERROR(InsertAuditLocked(audit));
    return tx.Commit("committing API key '" + key.name + "'");
  }

  Result<StoredKey> FindKeyByPrefix(const std::string& prefix) override {
    std::lock_guard<std::mutex> lock(mu_);
    NURT_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kFindKeyByPrefix));
    q.Bind(1, prefix);
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("looking up an API key"));
    if (!row) return Status::NotFound("no API key with prefix '" + prefix + "'");
    return ReadKey(q, conn_->path());
  }

  Result<KeyRecord> GetKey(const std::string& org_id, const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    NURT_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kGetKey));
    q.Bind(1, org_id).Bind(2, id);
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading API key " + id));
    if (!row) {
      return Status::NotFound("org '" + org_id + "' has no API key '" + id +
                              "' (list them with `nurt keys ls`)");
    }
    NURT_ASSIGN_OR_RETURN(StoredKey k, ReadKey(q, conn_->path()));
    return std::move(k.record);
  }

  Result<std::vector<KeyRecord>> ListKeys(const std::string& org_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    NURT_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kListKeys));
    q.Bind(1, org_id);
    std::vector<KeyRecord> out;
    for (;;) {
      NURT_ASSIGN_OR_RETURN(bool row, q.Next("listing API keys"));
      if (!row) break;
      NURT_ASSIGN_OR_RETURN(StoredKey k, ReadKey(q, conn_->path()));
      out.push_back(std::move(k.record));
    }
    return out;
  }

  Status UpdateKey(const KeyRecord& key, const std::string& expected_status,
                   const std::optional<std::string>& new_secret_hash,
                   const AuditRecord& audit) override {
    std::lock_guard<std::mutex> lock(mu_);
    WriteTransaction tx(conn_.get());
    NURT_RETURN_IF_ERROR(tx.Begin("starting to update API key " + key.id));
    {
      NURT_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kUpdateKey));
      q.Bind(1, key.org_id).Bind(2, key.id).Bind(3, key.status);
      BindOptionalTime(q, 4, key.expires_at);
      q.Bind(5, ToUnixMillis(audit.occurred_at));
      if (new_secret_hash) {
        q.Bind(6, *new_secret_hash);
      } else {
        q.BindNull(6);
      }
      q.Bind(7, expected_status);
      const int rc = q.Step();
      if (rc == SQLITE_CONSTRAINT_UNIQUE) {
        return Status::AlreadyExists("org '" + key.org_id + "' has another API key named '" +
                                     key.name + "' that is not revoked; revoke that one first");
      }
      if (rc != SQLITE_DONE) return conn_->Error(rc, "updating API key " + key.id);
    }
    if (conn_->Changes() == 0) {
      NURT_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kKeyStatus));
      q.Bind(1, key.org_id).Bind(2, key.id);
      NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading the status of API key " + key.id));
      if (!row) return Status::NotFound("org '" + key.org_id + "' has no API key '" + key.id + "'");
      return Status::Conflict("API key '" + key.name + "' (" + key.id +
                              ") changed meanwhile: it is " + q.Text(0) + ", not " +
                              expected_status +
                              "; nothing was written: look at it again (`nurt keys ls`) and retry");
    }
    NURT_RETURN_IF_ERROR(InsertAuditLocked(audit));
    return tx.Commit("committing the change to API key " + key.id);
  }

  Status TouchKey(const std::string& org_id, const std::string& id, TimePoint used_at) override {
    std::lock_guard<std::mutex> lock(mu_);
    NURT_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kTouchKey));
    q.Bind(1, org_id).Bind(2, id).Bind(3, ToUnixMillis(used_at));
    return q.Run("recording the last use of API key " + id);
  }

  Status AppendAudit(const AuditRecord& audit) override {
    std::lock_guard<std::mutex> lock(mu_);
    return InsertAuditLocked(audit);
  }

  Result<std::vector<AuditRecord>> ListAudit(const std::string& org_id, int limit,
                                             const std::string& after_id) override {
    if (limit < 1 || limit > 1000) {
      return Status::InvalidArgument("audit log page size " + std::to_string(limit) +
                                     " is out of range; ask for 1 to 1000 records");
    }
    std::lock_guard<std::mutex> lock(mu_);
    NURT_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kListAudit));
    q.Bind(1, org_id).Bind(2, after_id).Bind(3, static_cast<std::int64_t>(limit));
    std::vector<AuditRecord> out;
    for (;;) {
      NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading the audit log"));
      if (!row) break;
      AuditRecord a;
      a.org_id = q.Text(0);
      a.id = q.Text(1);
      a.occurred_at = FromUnixMillis(q.Int64(2));
      a.actor = q.Text(3);
      a.action = q.Text(4);
      a.target = q.Text(5);
      a.reason = q.Text(6);
      auto detail = ParseJson(q.Text(7), "audit_log.detail");
      if (!detail.ok()) {
        return Status::DataLoss("audit record " + a.id + " in '" + conn_->path() +
                                "' has a damaged detail: " + detail.status().message());
      }
      a.detail = std::move(detail).value();
      out.push_back(std::move(a));
    }
    return out;
  }

 private:
  // REQUIRES: mu_ held.
  Status InsertAuditLocked(const AuditRecord& a) {
    NURT_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kInsertAudit));
    q.Bind(1, a.org_id).Bind(2, a.id).Bind(3, ToUnixMillis(a.occurred_at)).Bind(4, a.actor);
    q.Bind(5, a.action).Bind(6, a.target).Bind(7, a.reason).Bind(8, a.detail.dump());
    return q.Run("writing audit record " + a.action + " " + a.target);
  }

  std::mutex mu_;
  std::unique_ptr<Connection> conn_ NURT_GUARDED_BY(mu_);
};

}  // namespace

Result<std::unique_ptr<KeyStore>> NewSqliteKeyStore(const SqliteOptions& options) {
  if (options.path.empty()) {
    return Status::InvalidArgument("SqliteOptions::path is empty; give the database file to use");
  }
  NURT_ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> conn,
      Connection::Open(ConnectionOptions{options.path, options.busy_timeout_ms, false}));
  {
    // The main store may not have opened the file yet; WAL is what lets both connections coexist.
    NURT_ASSIGN_OR_RETURN(Query q, conn->Prepare("PRAGMA journal_mode = WAL"));
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("enabling WAL"));
    const std::string mode = row ? q.Text(0) : "";
    if (mode != "wal") {
      return Status::Unavailable("cannot use WAL journaling on '" + options.path +
                                 "' (journal mode is '" + mode +
                                 "'); put the database on a local file system");
    }
  }
  NURT_RETURN_IF_ERROR(conn->Exec(
      options.fsync_on_commit ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
      "setting synchronous"));
  NURT_RETURN_IF_ERROR(sqlite::Migrate(conn.get()));
  return std::unique_ptr<KeyStore>(new SqliteKeyStore(std::move(conn)));
}

}  // namespace nurt::store
