#pragma once
// nurt::auth::ApiKeyService — creates, authenticates and manages API keys, and writes the audit
// log.
//
// Token: "nurt_<prefix>_<secret>", prefix 12 and secret 52 characters of lowercase Crockford base32
// (60 and 256 random bits): letters and digits only, safe in URLs, headers and shells. The store
// keeps the prefix (public, the lookup key) and HMAC-SHA256(key-hashing key, secret) — never the
// secret, so a stolen database yields no usable key. The token is returned once, by Create and
// Regenerate.
//
// Authenticate answers every failure with Unauthenticated. Until the secret has been checked it
// says nothing about the key (a guesser learns nothing, not even whether the prefix exists); once
// it has, it tells the owner what is wrong: suspended, revoked or expired, and what to do.
//
// Every mutating call writes an audit record (actor, action "key.create" | "key.suspend" |
// "key.activate" | "key.revoke" | "key.regenerate" | "key.expiry", target = key id, reason) in the
// same transaction as the change. last_used_at is written at most once a minute per key (a write on
// every request would double the API's fsyncs).
//
// Thread-safety: every method may be called from any thread. REQUIRES: the store, clock, random
// source and id generator outlive the service. Errors: InvalidArgument (bad name, scope, role,
// tier, expiry, empty actor), NotFound (no such key in the org), FailedPrecondition (e.g.
// activating a revoked key), AlreadyExists (name taken), Conflict (another admin changed the key
// between this call's read and its write: nothing was written, retry), Unauthenticated
// (Authenticate only), Unavailable/DataLoss from the store.

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nurt/auth/master_secret.hpp"
#include "nurt/auth/scopes.hpp"
#include "nurt/core/result.hpp"
#include "nurt/core/time.hpp"
#include "nurt/env/clock.hpp"
#include "nurt/env/id_generator.hpp"
#include "nurt/env/random.hpp"
#include "nurt/store/key_store.hpp"

namespace nurt::auth {

using store::AuditRecord;
using store::KeyRecord;

// Who is calling, once a token has been authenticated.
struct Principal {
  std::string org_id, key_id, key_name, role, tier;
  std::vector<std::string> scopes;  // effective: explicit scopes + the role's, sorted
  std::string Actor() const { return "key:" + key_name; }
  bool Allows(std::string_view scope) const { return ScopeAllows(scopes, scope); }
};

struct CreateKeyRequest {
  std::string org_id, name;             // name: 1-100 characters, unique among the org's live keys
  std::vector<std::string> scopes;      // from the catalogue (scopes.hpp)
  std::string role, tier = "standard";  // role "" or one of Roles(); tier basic|standard|premium
  std::optional<TimePoint> expires_at;  // must be in the future
  // Or: this long after the creation time (exactly; set one of the two).
  std::optional<std::chrono::milliseconds> expires_in;
  std::string actor, reason;            // actor required
};

struct IssuedKey {
  KeyRecord record;
  std::string token;  // shown once; nurt cannot show it again
};

class ApiKeyService {
 public:
  // `master_secret`: the installation's secret (LoadOrCreateSecret); the hashing key is derived.
  ApiKeyService(store::KeyStore* keys, const env::Clock* clock, env::Random* random,
                env::IdGenerator* ids, std::string master_secret);

  Result<IssuedKey> Create(const CreateKeyRequest& request);
  Result<Principal> Authenticate(std::string_view token);

  Result<std::vector<KeyRecord>> List(const std::string& org_id);
  Result<KeyRecord> Get(const std::string& org_id, const std::string& id);

  // active -> suspended (FailedPrecondition otherwise).
  Result<KeyRecord> Suspend(const std::string& org_id, const std::string& id,
                            const std::string& actor, const std::string& reason);
  // suspended -> active (FailedPrecondition otherwise; revocation is final).
  Result<KeyRecord> Activate(const std::string& org_id, const std::string& id,
                             const std::string& actor, const std::string& reason);
  // active|suspended -> revoked, for good; the name becomes free.
  Result<KeyRecord> Revoke(const std::string& org_id, const std::string& id,
                           const std::string& actor, const std::string& reason);
  // A new secret for the same key (same prefix, id, scopes and status); the old token stops
  // working.
  Result<IssuedKey> Regenerate(const std::string& org_id, const std::string& id,
                               const std::string& actor, const std::string& reason);
  // A new expiry (future) or none. Not for revoked keys.
  Result<KeyRecord> SetExpiry(const std::string& org_id, const std::string& id,
                              std::optional<TimePoint> expires_at, const std::string& actor,
                              const std::string& reason);

  // The org's audit records after `after_id`, oldest first, at most `limit` (1..1000).
  Result<std::vector<AuditRecord>> ListAudit(const std::string& org_id, int limit,
                                             const std::string& after_id);
  // Appends a record for another admin action (an override, a webhook change). id and occurred_at
  // are filled in when empty / the epoch. InvalidArgument when org_id, actor, action or target is
  // empty.
  Status Audit(const AuditRecord& record);

 private:
  Result<KeyRecord> ChangeStatus(const std::string& org_id, const std::string& id,
                                 const std::string& actor, const std::string& reason,
                                 std::string_view action, std::string_view to_status);
  AuditRecord NewAudit(const KeyRecord& key, std::string_view action, const std::string& actor,
                       const std::string& reason, Json detail);
  std::string HashSecret(std::string_view secret) const;
  std::string NewSecret();
  // Writes last_used_at when the last write for this key is a minute old or more.
  void NoteUse(const KeyRecord& key, TimePoint now);

  store::KeyStore* keys_;
  const env::Clock* clock_;
  env::Random* random_;
  env::IdGenerator* ids_;
  const std::string hashing_key_;

  // Serialises this process's changes (create, status, secret, expiry, audit) so that audit record ids,
  // ULIDs in time order, follow the order of the commits: ListAudit then tells one consistent story.
  std::mutex change_mu_;
  std::mutex touch_mu_;
  std::unordered_map<std::string, TimePoint>
      last_touch_;  // key id -> last write; guarded by touch_mu_
};

}  // namespace nurt::auth
