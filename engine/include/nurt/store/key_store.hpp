#pragma once
// nurt::store::KeyStore — persistence for API keys and the audit log (tables `api_keys` and
// `audit_log`, docs/store.md). nurt::auth::ApiKeyService is its only intended user; it owns the
// rules (token format, hashing, who may do what). The store only keeps rows consistent: every
// change to a key is written in the same transaction as the audit record that explains it.
//
// NewSqliteKeyStore opens its own connection to the same database file as the main Store (WAL lets
// both write the file; writes are serialised by SQLite's lock) and applies the same migrations.
//
// Thread-safety: every method may be called from any thread at any time.
// Errors: NotFound (no such key in that org), AlreadyExists (name or prefix taken), Unavailable
// (busy database, IO), DataLoss (damaged file or stored JSON).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"
#include "nurt/core/time.hpp"
#include "nurt/store/store.hpp"

namespace nurt::store {

// One API key as stored, without its secret hash (which never leaves the store except through
// FindKeyByPrefix, for authentication).
struct KeyRecord {
  std::string org_id;
  std::string id;      // ULID
  std::string prefix;  // public, unique across orgs: the token is nurt_<prefix>_<secret>
  std::string name;    // unique per org among keys that are not revoked
  std::vector<std::string> scopes;  // explicit scopes as granted (not expanded by the role)
  std::string role;                 // "" or one of auth::Roles()
  std::string tier;                 // basic | standard | premium (rate limit)
  std::string status;               // active | suspended | revoked
  TimePoint created_at{};
  std::string created_by;  // actor who created it
  std::optional<TimePoint> expires_at;
  std::optional<TimePoint> last_used_at;

  // {"id","orgId","prefix","name","scopes","role","tier","status","createdAt","createdBy",
  //  "expiresAt","lastUsedAt"}; times ISO-8601 or null, role "" as null. Never the hash.
  Json ToJson() const;
};

// One line of the audit log: who did what to which object, and why.
struct AuditRecord {
  std::string org_id;
  std::string id;  // ULID
  TimePoint occurred_at{};
  std::string actor;   // "key:<name>", "cli:alice", ...
  std::string action;  // "key.create", "key.suspend", "instance.cancel", ...
  std::string target;  // the object acted on (a key id, an instance id, ...)
  std::string reason;  // free text from the actor; may be ""
  Json detail = Json::object();

  // {"id","orgId","occurredAt","actor","action","target","reason","detail"}
  Json ToJson() const;
};

// A key with its secret hash, as needed to check a presented token.
struct StoredKey {
  KeyRecord record;
  std::string secret_hash;
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;

  // Inserts a new key and its audit record in one transaction. AlreadyExists when the org already
  // has a non-revoked key of that name, or when the prefix (or id) is taken.
  virtual Status InsertKey(const KeyRecord& key, const std::string& secret_hash,
                           const AuditRecord& audit) = 0;

  // The key with this prefix, in whichever org. NotFound when there is none.
  virtual Result<StoredKey> FindKeyByPrefix(const std::string& prefix) = 0;

  // NotFound when absent or in another org.
  virtual Result<KeyRecord> GetKey(const std::string& org_id, const std::string& id) = 0;

  // Every key of the org (revoked ones included), oldest first.
  virtual Result<std::vector<KeyRecord>> ListKeys(const std::string& org_id) = 0;

  // Writes key.status and key.expires_at (and the secret hash when `new_secret_hash` is set) of the
  // key (key.org_id, key.id), plus `audit`, in one transaction, only if the stored status is still
  // `expected_status` (compare-and-set: two admins acting at once cannot, say, turn a key revoked a
  // moment ago back into a suspended one). Other fields are not changed. Errors: NotFound (no such
  // key), Conflict (its status changed meanwhile: reload and retry), AlreadyExists (reactivating
  // would clash with another non-revoked key of the same name).
  virtual Status UpdateKey(const KeyRecord& key, const std::string& expected_status,
                           const std::optional<std::string>& new_secret_hash,
                           const AuditRecord& audit) = 0;

  // Sets last_used_at. A missing key is not an error (it may have been deleted meanwhile).
  virtual Status TouchKey(const std::string& org_id, const std::string& id, TimePoint used_at) = 0;

  virtual Status AppendAudit(const AuditRecord& audit) = 0;

  // Audit records of the org with id > after_id (ids are ULIDs: time order), oldest first, at most
  // `limit` (1..1000, InvalidArgument otherwise).
  virtual Result<std::vector<AuditRecord>> ListAudit(const std::string& org_id, int limit,
                                                     const std::string& after_id) = 0;
};

// Opens (creating and migrating) the database at options.path. Errors as NewSqliteStore.
Result<std::unique_ptr<KeyStore>> NewSqliteKeyStore(const SqliteOptions& options);

}  // namespace nurt::store
