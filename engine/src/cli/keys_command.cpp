#include "cli/keys_command.hpp"

#include <chrono>
#include <exception>
#include <memory>
#include <optional>

#include "nurt/auth/api_key_service.hpp"
#include "nurt/auth/master_secret.hpp"
#include "nurt/core/duration.hpp"
#include "nurt/core/json.hpp"
#include "nurt/env/clock.hpp"
#include "nurt/env/file_system.hpp"
#include "nurt/env/id_generator.hpp"
#include "nurt/env/random.hpp"
#include "nurt/store/key_store.hpp"

namespace nurt::cli {

const char* const kKeysUsage =
    R"(  keys create --name N [--scope S]... [--role R] [--tier T] [--expires RFC3339|P90D] [--reason R]
                                        create an API key (the token is shown once)
  keys ls                               list the org's API keys
  keys suspend|activate|revoke|regenerate ID [--reason R]
                                        change a key (regenerate: new token, shown once)
)";

namespace {

constexpr const char* kShownOnce =
    "this token is shown once and cannot be shown again; store it now (a password manager or your "
    "secret store). If it is lost, run `nurt keys regenerate` for a new one";

std::string Join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// "P90D" (days) or "PT12H" (hours) from now, or an RFC 3339 time.
// --expires: a duration from the moment the key is created (P90D, PT12H: kept exact, the service adds it
// to the creation time) or a time (2027-01-31T00:00:00Z).
Status ParseExpiry(const std::string& text, auth::CreateKeyRequest* r) {
  if (!text.empty() && text[0] == 'P') {
    auto d = ParseIsoDuration(text);
    if (!d.ok()) return Status::InvalidArgument("--expires: " + d.status().message());
    r->expires_in = *d;
    return Status::Ok();
  }
  if (auto t = ParseIso8601(text); t.ok()) {
    r->expires_at = *t;
    return Status::Ok();
  }
  return Status::InvalidArgument("--expires '" + text +
                                 "' is neither a time like 2027-01-31T00:00:00Z nor a duration "
                                 "like P90D (days) or PT12H (hours)");
}

class KeysCommand {
 public:
  KeysCommand(const KeysInvocation& inv, std::ostream& out, std::ostream& err)
      : inv_(inv), out_(out), err_(err) {}

  int Run() {
    if (inv_.args.empty())
      return Usage("name what to do: create, ls, suspend, activate, revoke or regenerate");
    sub_ = inv_.args[0];
    const bool takes_id =
        sub_ == "suspend" || sub_ == "activate" || sub_ == "revoke" || sub_ == "regenerate";
    if (sub_ != "create" && sub_ != "ls" && !takes_id)
      return Usage("unknown subcommand '" + sub_ + "'");
    if (takes_id && inv_.args.size() != 2) return Usage("name the key's id (see `nurt keys ls`)");
    if (!takes_id && inv_.args.size() != 1) return Usage("unexpected '" + inv_.args[1] + "'");
    Status opened = Open();
    if (!opened.ok()) return Fail(opened);
    if (sub_ == "create") return Create();
    if (sub_ == "ls") return List();
    if (sub_ == "regenerate") return Regenerate(inv_.args[1]);
    return ChangeStatus(inv_.args[1]);
  }

 private:
  const std::vector<std::string>& All(const std::string& name) const {
    static const std::vector<std::string> kNone;
    auto it = inv_.options.find(name);
    return it == inv_.options.end() ? kNone : it->second;
  }
  std::string Opt(const std::string& name, const std::string& def = "") const {
    const auto& v = All(name);
    return v.empty() ? def : v.back();
  }

  Status Open() {
    store::SqliteOptions so;
    so.path = inv_.db;
    auto keys = store::NewSqliteKeyStore(so);
    if (!keys.ok()) return keys.status().WithContext("opening store " + inv_.db);
    keys_ = std::move(keys).value();
    auto secret =
        auth::LoadOrCreateSecret(env::LocalFileSystem(), env::SystemRandom(), inv_.secret_file);
    if (!secret.ok()) return secret.status();
    ids_ = env::NewUlidGenerator(env::SystemClock());
    service_ = std::make_unique<auth::ApiKeyService>(keys_.get(), env::SystemClock(),
                                                     env::SystemRandom(), ids_.get(), *secret);
    return Status::Ok();
  }

  int Fail(const Status& st) {
    if (inv_.json) {
      out_ << Json{{"error",
                    {{"code", std::string(StatusCodeName(st.code()))}, {"message", st.message()}}}}
                  .dump(2)
           << "\n";
    } else {
      err_ << "nurt keys" << (sub_.empty() ? "" : " " + sub_) << ": " << st.message() << "\n";
    }
    return 1;
  }

  int Usage(const std::string& what) {
    err_ << "nurt keys" << (sub_.empty() ? "" : " " + sub_) << ": " << what
         << "\n\nusage: nurt [global options]\n"
         << kKeysUsage;
    return 2;
  }

  void PrintKey(const store::KeyRecord& k) {
    out_ << "id:       " << k.id << "\n"
         << "name:     " << k.name << "\n"
         << "org:      " << k.org_id << "\n"
         << "status:   " << k.status << "\n"
         << "role:     " << (k.role.empty() ? "(none)" : k.role) << "\n"
         << "scopes:   " << (k.scopes.empty() ? "(none)" : Join(k.scopes)) << "\n";
    // What the key may do, role included: what the admin must check before handing the token out.
    if (auto effective = auth::EffectiveScopes(k.scopes, k.role); effective.ok()) {
      out_ << "allows:   " << Join(*effective) << "\n";
    }
    out_ << "tier:     " << k.tier << "\n"
         << "expires:  " << (k.expires_at ? FormatIso8601(*k.expires_at) : "never") << "\n";
  }

  int PrintIssued(const auth::IssuedKey& issued, const char* verb) {
    if (inv_.json) {
      out_ << Json{{"key", issued.record.ToJson()},
                   {"token", issued.token},
                   {"warning", kShownOnce}}
                  .dump(2)
           << "\n";
    } else {
      out_ << verb << " API key '" << issued.record.name << "'\n";
      PrintKey(issued.record);
      out_ << "token:    " << issued.token << "\n";
    }
    err_ << "warning: " << kShownOnce << "\n";
    return 0;
  }

  int Create() {
    auth::CreateKeyRequest r;
    r.org_id = inv_.org;
    r.name = Opt("--name");
    if (r.name.empty()) return Usage("give the key a --name (e.g. --name installer-app)");
    r.scopes = All("--scope");
    r.role = Opt("--role");
    r.tier = Opt("--tier", "standard");
    r.actor = inv_.actor;
    r.reason = Opt("--reason");
    if (!Opt("--expires").empty()) {
      Status expiry = ParseExpiry(Opt("--expires"), &r);
      if (!expiry.ok()) return Usage(expiry.message());
    }
    auto issued = service_->Create(r);
    if (!issued.ok()) return Fail(issued.status());
    return PrintIssued(*issued, "created");
  }

  int Regenerate(const std::string& id) {
    auto issued = service_->Regenerate(inv_.org, id, inv_.actor, Opt("--reason"));
    if (!issued.ok()) return Fail(issued.status());
    return PrintIssued(*issued, "regenerated");
  }

  int ChangeStatus(const std::string& id) {
    const std::string reason = Opt("--reason");
    Result<store::KeyRecord> changed = Status::Internal("unreachable");
    if (sub_ == "suspend") changed = service_->Suspend(inv_.org, id, inv_.actor, reason);
    if (sub_ == "activate") changed = service_->Activate(inv_.org, id, inv_.actor, reason);
    if (sub_ == "revoke") changed = service_->Revoke(inv_.org, id, inv_.actor, reason);
    if (!changed.ok()) return Fail(changed.status());
    if (inv_.json) {
      out_ << changed->ToJson().dump(2) << "\n";
    } else {
      out_ << "API key '" << changed->name << "' (" << changed->id << ") is now " << changed->status
           << "\n";
    }
    return 0;
  }

  int List() {
    auto keys = service_->List(inv_.org);
    if (!keys.ok()) return Fail(keys.status());
    if (inv_.json) {
      Json all = Json::array();
      for (const auto& k : *keys) all.push_back(k.ToJson());
      out_ << Json{{"keys", all}}.dump(2) << "\n";
      return 0;
    }
    if (keys->empty()) {
      out_ << "(no API keys in org " << inv_.org
           << "; create one with `nurt keys create --name N --role R`)\n";
      return 0;
    }
    for (const auto& k : *keys) {
      out_ << k.id << "  " << k.name << "  " << k.status << "  nurt_" << k.prefix << "…"
           << "  role " << (k.role.empty() ? "-" : k.role) << "  scopes "
           << (k.scopes.empty() ? "-" : Join(k.scopes, ",")) << "  " << k.tier << "  expires "
           << (k.expires_at ? FormatIso8601(*k.expires_at) : "never") << "  last used "
           << (k.last_used_at ? FormatIso8601(*k.last_used_at) : "never") << "\n";
    }
    return 0;
  }

  const KeysInvocation& inv_;
  std::ostream& out_;
  std::ostream& err_;
  std::string sub_;
  std::unique_ptr<store::KeyStore> keys_;
  std::unique_ptr<env::IdGenerator> ids_;
  std::unique_ptr<auth::ApiKeyService> service_;
};

}  // namespace

int RunKeysCommand(const KeysInvocation& invocation, std::ostream& out, std::ostream& err) {
  return KeysCommand(invocation, out, err).Run();
}

}  // namespace nurt::cli
