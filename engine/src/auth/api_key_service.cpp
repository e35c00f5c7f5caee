#include "nurt/auth/api_key_service.hpp"

#include <chrono>
#include <utility>

#include "auth/crypto.hpp"
#include "nurt/auth/rate_limiter.hpp"

namespace nurt::auth {
namespace {

constexpr std::string_view kTokenStart = "nurt_";
constexpr std::size_t kPrefixLength = 12;                                    // 60 random bits
constexpr std::size_t kSecretBytes = 32;                                     // 256 random bits
constexpr std::size_t kSecretLength = internal::Base32Length(kSecretBytes);  // 52 characters
constexpr std::size_t kMaxNameLength = 100;
constexpr auto kTouchInterval = std::chrono::minutes(1);

struct ParsedToken {
  std::string_view prefix;
  std::string_view secret;
};

std::optional<ParsedToken> ParseToken(std::string_view token) {
  if (token.size() != kTokenStart.size() + kPrefixLength + 1 + kSecretLength) return std::nullopt;
  if (token.substr(0, kTokenStart.size()) != kTokenStart) return std::nullopt;
  ParsedToken p;
  p.prefix = token.substr(kTokenStart.size(), kPrefixLength);
  if (token[kTokenStart.size() + kPrefixLength] != '_') return std::nullopt;
  p.secret = token.substr(kTokenStart.size() + kPrefixLength + 1);
  if (!internal::IsBase32(p.prefix) || !internal::IsBase32(p.secret)) return std::nullopt;
  return p;
}

// How a key is named in messages to its owner: enough to recognise it, never the secret.
std::string Shown(std::string_view prefix) {
  return std::string(kTokenStart) + std::string(prefix) + "…";
}

Status NotValid(std::string_view prefix) {
  return Status::Unauthenticated(
      "API key " + Shown(prefix) +
      " is not valid; check that the whole key was sent, or ask an admin "
      "of your organisation for a new one");
}

// Length in characters (UTF-8 code points), as SQLite's length() counts them.
std::size_t CharacterCount(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

Status ValidateName(const std::string& name) {
  const std::size_t n = CharacterCount(name);
  if (n < 1 || n > kMaxNameLength) {
    return Status::InvalidArgument("an API key name has 1 to " + std::to_string(kMaxNameLength) +
                                   " characters; '" + name + "' has " + std::to_string(n));
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7F) {
      return Status::InvalidArgument("API key name '" + name +
                                     "' contains a control character; use printable text");
    }
  }
  return Status::Ok();
}

Status RequireActor(const std::string& actor) {
  if (actor.empty()) {
    return Status::InvalidArgument(
        "who is acting is not known (empty actor); every change to an API "
        "key is audited: pass the actor");
  }
  return Status::Ok();
}

Json OptionalTimeJson(const std::optional<TimePoint>& t) {
  return t ? Json(FormatIso8601(*t)) : Json();
}

std::string Describe(const KeyRecord& k) { return "API key '" + k.name + "' (" + k.id + ")"; }

}  // namespace

ApiKeyService::ApiKeyService(store::KeyStore* keys, const env::Clock* clock, env::Random* random,
                             env::IdGenerator* ids, std::string master_secret)
    : keys_(keys),
      clock_(clock),
      random_(random),
      ids_(ids),
      hashing_key_(DeriveKeyHashingKey(master_secret)) {}

std::string ApiKeyService::HashSecret(std::string_view secret) const {
  return internal::HexEncode(internal::HmacSha256(hashing_key_, secret));
}

std::string ApiKeyService::NewSecret() {
  std::string bytes(kSecretBytes, '\0');
  random_->Fill(reinterpret_cast<std::uint8_t*>(bytes.data()), bytes.size());
  return internal::Base32Encode(bytes);
}

AuditRecord ApiKeyService::NewAudit(const KeyRecord& key, std::string_view action,
                                    const std::string& actor, const std::string& reason,
                                    Json detail) {
  AuditRecord a;
  a.org_id = key.org_id;
  a.id = ids_->NewId();
  a.occurred_at = clock_->Now();
  a.actor = actor;
  a.action = std::string(action);
  a.target = key.id;
  a.reason = reason;
  a.detail = std::move(detail);
  return a;
}

Result<IssuedKey> ApiKeyService::Create(const CreateKeyRequest& request) {
  std::lock_guard<std::mutex> lock(change_mu_);
  if (request.org_id.empty()) {
    return Status::InvalidArgument("an API key belongs to an org; the org is empty");
  }
  NURT_RETURN_IF_ERROR(ValidateName(request.name));
  NURT_RETURN_IF_ERROR(RequireActor(request.actor));
  NURT_ASSIGN_OR_RETURN(std::vector<std::string> scopes, ParseScopes(request.scopes));
  if (!request.role.empty()) NURT_RETURN_IF_ERROR(RoleScopes(request.role).status());
  if (scopes.empty() && request.role.empty()) {
    return Status::InvalidArgument("API key '" + request.name +
                                   "' would allow nothing: give it at least one scope or a role "
                                   "(roles: architect, installer, coordinator, finance, admin)");
  }
  NURT_RETURN_IF_ERROR(TierByName(request.tier).status());
  const TimePoint now = clock_->Now();
  if (request.expires_at && request.expires_in) {
    return Status::InvalidArgument("give the key an expiry time or a lifetime, not both");
  }
  if (request.expires_in && request.expires_in->count() <= 0) {
    return Status::InvalidArgument("a key's lifetime must be positive");
  }
  if (request.expires_at && *request.expires_at <= now) {
    return Status::InvalidArgument("expiry " + FormatIso8601(*request.expires_at) +
                                   " is not in the future (now " + FormatIso8601(now) + ")");
  }

  KeyRecord k;
  k.org_id = request.org_id;
  k.id = ids_->NewId();
  std::string prefix_bytes(8, '\0');
  random_->Fill(reinterpret_cast<std::uint8_t*>(prefix_bytes.data()), prefix_bytes.size());
  k.prefix = internal::Base32Encode(prefix_bytes).substr(0, kPrefixLength);
  k.name = request.name;
  k.scopes = scopes;
  k.role = request.role;
  k.tier = request.tier;
  k.status = "active";
  k.created_at = now;
  k.created_by = request.actor;
  k.expires_at = request.expires_in ? std::optional<TimePoint>(now + *request.expires_in) : request.expires_at;
  const std::string secret = NewSecret();
  const AuditRecord audit = NewAudit(k, "key.create", request.actor, request.reason,
                                     Json{{"name", k.name},
                                          {"scopes", k.scopes},
                                          {"role", k.role},
                                          {"tier", k.tier},
                                          {"expiresAt", OptionalTimeJson(k.expires_at)}});
  NURT_RETURN_IF_ERROR(keys_->InsertKey(k, HashSecret(secret), audit));
  std::string token = std::string(kTokenStart) + k.prefix + "_" + secret;
  return IssuedKey{std::move(k), std::move(token)};
}

Result<Principal> ApiKeyService::Authenticate(std::string_view token) {
  const auto parsed = ParseToken(token);
  if (!parsed) {
    return Status::Unauthenticated(
        "malformed API key: expected nurt_<12 letters or digits>_<52 letters or digits> (" +
        std::to_string(kTokenStart.size() + kPrefixLength + 1 + kSecretLength) +
        " characters); check that the whole key was sent");
  }
  auto found = keys_->FindKeyByPrefix(std::string(parsed->prefix));
  if (!found.ok()) {
    if (found.status().IsNotFound()) {
      // Same work and same answer as a wrong secret: the response must not reveal the prefix
      // exists.
      (void)internal::ConstantTimeEquals(HashSecret(parsed->secret), std::string(64, '0'));
      return NotValid(parsed->prefix);
    }
    return found.status();  // the database is unwell: the caller should retry, not re-authenticate
  }
  const KeyRecord& k = found->record;
  if (!internal::ConstantTimeEquals(HashSecret(parsed->secret), found->secret_hash)) {
    return NotValid(parsed->prefix);
  }
  // From here on the caller holds the real secret: tell the owner exactly what is wrong.
  const TimePoint now = clock_->Now();
  if (k.status == "revoked") {
    return Status::Unauthenticated("API key " + Shown(k.prefix) + " ('" + k.name +
                                   "') was revoked; it cannot be reactivated: ask an admin for a "
                                   "new key");
  }
  if (k.status == "suspended") {
    return Status::Unauthenticated("API key " + Shown(k.prefix) + " ('" + k.name +
                                   "') is suspended; an admin can reactivate it");
  }
  if (k.expires_at && now >= *k.expires_at) {
    return Status::Unauthenticated("API key " + Shown(k.prefix) + " ('" + k.name +
                                   "') expired at " + FormatIso8601(*k.expires_at) +
                                   "; an admin can extend it or create a new key");
  }
  auto scopes = EffectiveScopes(k.scopes, k.role);
  if (!scopes.ok()) {
    return Status::DataLoss(Describe(k) + " has a grant this nurt does not know (" +
                            scopes.status().message() +
                            "); it was written by a newer nurt, or the row was edited by hand");
  }
  NoteUse(k, now);
  Principal p;
  p.org_id = k.org_id;
  p.key_id = k.id;
  p.key_name = k.name;
  p.role = k.role;
  p.tier = k.tier;
  p.scopes = std::move(scopes).value();
  return p;
}

void ApiKeyService::NoteUse(const KeyRecord& key, TimePoint now) {
  {
    std::lock_guard<std::mutex> lock(touch_mu_);
    TimePoint last = key.last_used_at.value_or(TimePoint{});
    auto it = last_touch_.find(key.id);
    if (it != last_touch_.end()) last = std::max(last, it->second);
    if (key.last_used_at && now - last < kTouchInterval) return;
    last_touch_[key.id] = now;
  }
  // last_used_at is informational: a failed write must not turn an authenticated request away. A
  // database that cannot write will fail the request's own work anyway, with a message to act on.
  (void)keys_->TouchKey(key.org_id, key.id, now);
}

Result<std::vector<KeyRecord>> ApiKeyService::List(const std::string& org_id) {
  return keys_->ListKeys(org_id);
}

Result<KeyRecord> ApiKeyService::Get(const std::string& org_id, const std::string& id) {
  return keys_->GetKey(org_id, id);
}

Result<KeyRecord> ApiKeyService::ChangeStatus(const std::string& org_id, const std::string& id,
                                              const std::string& actor, const std::string& reason,
                                              std::string_view action, std::string_view to_status) {
  std::lock_guard<std::mutex> lock(change_mu_);
  NURT_RETURN_IF_ERROR(RequireActor(actor));
  NURT_ASSIGN_OR_RETURN(KeyRecord k, keys_->GetKey(org_id, id));
  if (k.status == "revoked") {
    return Status::FailedPrecondition(Describe(k) +
                                      " is revoked, and revocation is final; create a new key");
  }
  if (k.status == to_status) {
    return Status::FailedPrecondition(Describe(k) + " is already " + std::string(to_status));
  }
  const std::string from = k.status;
  k.status = std::string(to_status);
  const AuditRecord audit =
      NewAudit(k, action, actor, reason, Json{{"from", from}, {"to", k.status}});
  NURT_RETURN_IF_ERROR(keys_->UpdateKey(k, from, std::nullopt, audit));
  return k;
}

Result<KeyRecord> ApiKeyService::Suspend(const std::string& org_id, const std::string& id,
                                         const std::string& actor, const std::string& reason) {
  return ChangeStatus(org_id, id, actor, reason, "key.suspend", "suspended");
}

Result<KeyRecord> ApiKeyService::Activate(const std::string& org_id, const std::string& id,
                                          const std::string& actor, const std::string& reason) {
  return ChangeStatus(org_id, id, actor, reason, "key.activate", "active");
}

Result<KeyRecord> ApiKeyService::Revoke(const std::string& org_id, const std::string& id,
                                        const std::string& actor, const std::string& reason) {
  return ChangeStatus(org_id, id, actor, reason, "key.revoke", "revoked");
}

Result<IssuedKey> ApiKeyService::Regenerate(const std::string& org_id, const std::string& id,
                                            const std::string& actor, const std::string& reason) {
  std::lock_guard<std::mutex> lock(change_mu_);
  NURT_RETURN_IF_ERROR(RequireActor(actor));
  NURT_ASSIGN_OR_RETURN(KeyRecord k, keys_->GetKey(org_id, id));
  if (k.status == "revoked") {
    return Status::FailedPrecondition(Describe(k) +
                                      " is revoked, and revocation is final; create a new key");
  }
  const std::string secret = NewSecret();
  const AuditRecord audit = NewAudit(k, "key.regenerate", actor, reason, Json::object());
  NURT_RETURN_IF_ERROR(keys_->UpdateKey(k, k.status, HashSecret(secret), audit));
  std::string token = std::string(kTokenStart) + k.prefix + "_" + secret;
  return IssuedKey{std::move(k), std::move(token)};
}

Result<KeyRecord> ApiKeyService::SetExpiry(const std::string& org_id, const std::string& id,
                                           std::optional<TimePoint> expires_at,
                                           const std::string& actor, const std::string& reason) {
  std::lock_guard<std::mutex> lock(change_mu_);
  NURT_RETURN_IF_ERROR(RequireActor(actor));
  const TimePoint now = clock_->Now();
  if (expires_at && *expires_at <= now) {
    return Status::InvalidArgument("expiry " + FormatIso8601(*expires_at) +
                                   " is not in the future (now " + FormatIso8601(now) +
                                   "); to stop a key now, suspend or revoke it");
  }
  NURT_ASSIGN_OR_RETURN(KeyRecord k, keys_->GetKey(org_id, id));
  if (k.status == "revoked") {
    return Status::FailedPrecondition(Describe(k) +
                                      " is revoked, and revocation is final; create a new key");
  }
  const Json detail{{"from", OptionalTimeJson(k.expires_at)}, {"to", OptionalTimeJson(expires_at)}};
  k.expires_at = expires_at;
  NURT_RETURN_IF_ERROR(keys_->UpdateKey(k, k.status, std::nullopt,
                                        NewAudit(k, "key.expiry", actor, reason, detail)));
  return k;
}

Result<std::vector<AuditRecord>> ApiKeyService::ListAudit(const std::string& org_id, int limit,
                                                          const std::string& after_id) {
  return keys_->ListAudit(org_id, limit, after_id);
}

Status ApiKeyService::Audit(const AuditRecord& record) {
  if (record.org_id.empty() || record.actor.empty() || record.action.empty() ||
      record.target.empty()) {
    return Status::InvalidArgument(
        "an audit record needs an org, an actor, an action and a target (got org '" +
        record.org_id + "', actor '" + record.actor + "', action '" + record.action +
        "', target '" + record.target + "')");
  }
  std::lock_guard<std::mutex> lock(change_mu_);
  AuditRecord r = record;
  if (r.id.empty()) r.id = ids_->NewId();
  if (r.occurred_at == TimePoint{}) r.occurred_at = clock_->Now();
  return keys_->AppendAudit(r);
}

}  // namespace nurt::auth
