// The `kind: Channels` loader: one structural pass over the YAML in document order, every problem a
// diagnostic with its file:line:col (the same walker and Diagnostic type as the machine loader).

#include "nurt/notify/channels.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <regex>
#include <set>

#include "dsl/document_reader.hpp"
#include "dsl/yaml_walker.hpp"
#include "notify/address.hpp"
#include "nurt/core/duration.hpp"
#include "nurt/core/suggest.hpp"

namespace nurt::notify {
namespace {

using dsl::Diagnostic;
using dsl::Severity;
using dsl::SourceLocation;
using dsl::internal::Describe;
using dsl::internal::IsText;
using dsl::internal::SourceText;

const std::vector<std::string> kTopKeys = {"apiVersion", "kind", "org", "description", "channels"};
const std::vector<std::string> kTypes = {"email", "slack", "webhook"};
const std::vector<std::string> kCommonKeys = {"type", "description", "throttle", "timeout", "ca_file"};
const std::vector<std::string> kEmailKeys = {"smtp_url", "starttls", "username", "password_env", "from",
                                             "to"};
const std::vector<std::string> kSlackKeys = {"webhook_url", "webhook_url_env", "allow_http_loopback"};
const std::vector<std::string> kWebhookKeys = {"url", "secret_env", "headers", "allow_http_loopback"};
const std::vector<std::string> kThrottleKeys = {"limit", "per", "policy"};
// Keys that would put a credential into a file that lives in version control.
const std::vector<std::string> kInlineSecrets = {"password", "secret", "token", "api_key"};
// Headers the webhook sender sets itself.
const std::vector<std::string> kReservedHeaders = {"host", "content-type", "content-length",
                                                   "idempotency-key", "webhook-id", "webhook-timestamp",
                                                   "webhook-signature", "transfer-encoding", "connection"};

std::string Quote(const std::string& s) { return "'" + s + "'"; }

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

const std::regex& ChannelNamePattern() {
  static const std::regex re("[a-z][a-z0-9_-]*");
  return re;
}
const std::regex& OrgPattern() {
  static const std::regex re("[A-Za-z0-9][A-Za-z0-9_.-]*");
  return re;
}
const std::regex& EnvNamePattern() {
  static const std::regex re("[A-Za-z_][A-Za-z0-9_]*");
  return re;
}
const std::regex& HeaderNamePattern() {
  static const std::regex re("[!#$%&'*+.^_`|~0-9A-Za-z-]+");  // RFC 9110 token
  return re;
}

using dsl::internal::DocumentReader;
using dsl::internal::Entry;

class ChannelsLoader : public DocumentReader {
 public:
  ChannelsLoader(const std::string& text, const std::string& file) : DocumentReader(text, file), text_(text) {}

  ChannelsLoadResult Run();

 private:
  void Error(const SourceLocation& at, const std::string& rule, const std::string& message) {
    diag_.Error(at, rule, message);
  }
  // Channel settings are never empty: ReadText here also refuses "".
  bool ReadText(const Entry& e, const std::string& what, std::string* out);
  bool ReadEnvName(const Entry& e, const std::string& what, std::string* out);
  void ParseTop(const YAML::Node& root);
  void ParseChannels(const Entry& e);
  void ParseChannel(const Entry& e);
  void ParseThrottle(const Entry& e, const std::string& where, ChannelConfig* c);
  void CheckChannel(const Entry& e, const std::string& where, const std::set<std::string>& present,
                    const std::map<std::string, SourceLocation>& at, ChannelConfig* c);

  std::string text_;

  OrgChannels result_;
};

bool ChannelsLoader::ReadText(const Entry& e, const std::string& what, std::string* out) {
  if (!IsText(e.value) || e.value.Scalar().empty()) {
    WrongType(ValueAt(e), what, "non-empty text", e.value);
    return false;
  }
  *out = e.value.Scalar();
  return true;
}

bool ChannelsLoader::ReadEnvName(const Entry& e, const std::string& what, std::string* out) {
  if (!ReadText(e, what, out)) return false;
  if (!std::regex_match(*out, EnvNamePattern())) {
    Error(ValueAt(e), "bad-value",
          what + " names an environment variable (e.g. NURT_SMTP_PASSWORD), not " + Quote(*out) +
              "; the value itself goes into the daemon's environment, never into this file");
    return false;
  }
  return true;
}

void ChannelsLoader::ParseTop(const YAML::Node& root) {
  if (!root.IsMap()) {
    if (!root.IsDefined() || root.IsNull()) {
      Error(source_.At(1, 1), "wrong-type",
            "the file is empty; a channel file is a map with apiVersion: nurt/v1, kind: Channels and "
            "channels");
    } else {
      WrongType(At(root), "a channel file", "a map (apiVersion, kind, org, channels)", root);
    }
    return;
  }
  result_.org = "default";
  std::set<std::string> present;
  for (const Entry& e : Entries(root)) {
    present.insert(e.key);
    if (e.key == "apiVersion") {
      if (!IsText(e.value) || e.value.Scalar() != "nurt/v1") {
        Error(ValueAt(e), "bad-value",
              "apiVersion " + Quote(e.value.IsScalar() ? e.value.Scalar() : Describe(e.value)) +
                  " is not supported; write apiVersion: nurt/v1");
      }
    } else if (e.key == "kind") {
      if (!IsText(e.value) || e.value.Scalar() != "Channels") {
        const std::string kind = e.value.IsScalar() ? e.value.Scalar() : Describe(e.value);
        Error(ValueAt(e), "bad-value",
              "kind " + Quote(kind) + " is not a channel file" + DidYouMean(kind, {"Channels"}) +
                  "; write kind: Channels");
      }
    } else if (e.key == "org") {
      std::string org;
      if (ReadText(e, "org", &org)) {
        if (!std::regex_match(org, OrgPattern())) {
          Error(ValueAt(e), "bad-value",
                "org " + Quote(org) + " must use only letters, digits, '_', '.' and '-'");
        } else {
          result_.org = org;
        }
      }
    } else if (e.key == "description") {
      std::string ignored;
      ReadText(e, "description", &ignored);
    } else if (e.key == "channels") {
      ParseChannels(e);
    } else {
      const std::string hint = DidYouMean(e.key, kTopKeys);
      Error(e.key_at, "unknown-key",
            "unknown key " + Quote(e.key) + " in the channel file" +
                (hint.empty() ? "; the keys allowed here are: " + Join(kTopKeys) : hint));
    }
  }
  const SourceLocation top = At(root);
  if (!present.count("apiVersion")) {
    Error(top, "missing-key", "the channel file has no 'apiVersion' (required); add apiVersion: nurt/v1");
  }
  if (!present.count("kind")) {
    Error(top, "missing-key", "the channel file has no 'kind' (required); add kind: Channels");
  }
  if (!present.count("channels")) {
    Error(top, "missing-key",
          "the channel file has no 'channels' (required); add channels: with at least one channel, "
          "e.g. email: {type: email, ...}");
  }
}

void ChannelsLoader::ParseChannels(const Entry& e) {
  if (!e.value.IsMap() || e.value.size() == 0) {
    WrongType(ValueAt(e), "channels", "a map of channel name to its settings (at least one)", e.value);
    return;
  }
  for (const Entry& c : Entries(e.value)) ParseChannel(c);
}

void ChannelsLoader::ParseChannel(const Entry& e) {
  const std::string where = "channel " + Quote(e.key);
  if (!std::regex_match(e.key, ChannelNamePattern())) {
    Error(e.key_at, "bad-value",
          "channel name " + Quote(e.key) +
              " must start with a lower-case letter and use only a-z, 0-9, '_' and '-'");
  }
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), where, "a map with at least type: email|slack|webhook", e.value);
    return;
  }
  ChannelConfig c;
  c.name = e.key;
  c.location = e.key_at;
  const std::vector<Entry> entries = Entries(e.value);

  // The type decides which keys are allowed, so read it first.
  std::optional<ChannelType> type;
  for (const Entry& k : entries) {
    if (k.key != "type") continue;
    std::string t;
    if (!ReadText(k, where + " type", &t)) return;
    if (t == "email") type = ChannelType::kEmail;
    if (t == "slack") type = ChannelType::kSlack;
    if (t == "webhook") type = ChannelType::kWebhook;
    if (!type) {
      const std::string hint = DidYouMean(t, kTypes);
      Error(ValueAt(k), "bad-value",
            where + " has type " + Quote(t) + (hint.empty() ? "; the types are: " + Join(kTypes) : hint));
      return;
    }
  }
  if (!type) {
    Error(e.key_at, "missing-key", where + " has no 'type' (required); add type: email, slack or webhook");
    return;
  }
  c.type = *type;
  std::vector<std::string> allowed = kCommonKeys;
  const auto& specific = c.type == ChannelType::kEmail   ? kEmailKeys
                         : c.type == ChannelType::kSlack ? kSlackKeys
                                                         : kWebhookKeys;
  allowed.insert(allowed.end(), specific.begin(), specific.end());

  std::set<std::string> present;
  std::map<std::string, SourceLocation> at;
  for (const Entry& k : entries) {
    if (std::find(kInlineSecrets.begin(), kInlineSecrets.end(), k.key) != kInlineSecrets.end()) {
      const std::string env_key = c.type == ChannelType::kEmail ? "password_env" : "secret_env";
      Error(k.key_at, "inline-secret",
            where + ": " + Quote(k.key) +
                " would keep a credential in this file, which lives in version control and is readable by "
                "everyone who can read the workflows; put it in an environment variable of the daemon and "
                "write " + env_key + ": <VARIABLE NAME>");
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), k.key) == allowed.end()) {
      const std::string hint = DidYouMean(k.key, allowed);
      Error(k.key_at, "unknown-key",
            "unknown key " + Quote(k.key) + " in " + where + " (type " + kTypes[static_cast<int>(c.type)] +
                ")" + (hint.empty() ? "; the keys allowed here are: " + Join(allowed) : hint));
      continue;
    }
    present.insert(k.key);
    at[k.key] = ValueAt(k);
    const std::string what = where + " " + k.key;
    if (k.key == "type" || k.key == "description") {
      continue;
    } else if (k.key == "smtp_url") {
      ReadText(k, what, &c.smtp_url);
    } else if (k.key == "starttls") {
      std::string v;
      if (ReadText(k, what, &v)) {
        if (v == "required") {
          c.starttls = StartTls::kRequired;
        } else if (v == "optional") {
          c.starttls = StartTls::kOptional;
        } else if (v == "none") {
          c.starttls = StartTls::kNone;
        } else {
          Error(ValueAt(k), "bad-value",
                what + " is " + Quote(v) + DidYouMean(v, {"required", "optional", "none"}) +
                    "; write required, optional or none");
        }
      }
    } else if (k.key == "username") {
      ReadText(k, what, &c.username);
    } else if (k.key == "password_env") {
      ReadEnvName(k, what, &c.password_env);
    } else if (k.key == "from") {
      if (ReadText(k, what, &c.from)) {
        auto m = internal::ParseMailbox(c.from);
        if (!m.ok()) Error(ValueAt(k), "bad-value", what + ": " + m.status().message());
      }
    } else if (k.key == "to") {
      // One address or a list. (Not by assigning to a YAML::Node: yaml-cpp nodes are references, and
      // assignment would overwrite the document's own node.)
      std::vector<YAML::Node> items;
      if (IsText(k.value)) {
        items.push_back(k.value);
      } else if (k.value.IsSequence() && k.value.size() > 0) {
        for (const auto& item : k.value) items.push_back(item);
      } else {
        WrongType(ValueAt(k), what, "a list of email addresses", k.value);
        continue;
      }
      for (const auto& item : items) {
        if (!IsText(item)) {
          WrongType(At(item), what + " item", "an email address", item);
          continue;
        }
        auto m = internal::ParseMailbox(item.Scalar());
        if (!m.ok()) {
          Error(At(item), "bad-value", what + ": " + m.status().message());
          continue;
        }
        c.to.push_back(item.Scalar());
      }
    } else if (k.key == "webhook_url") {
      ReadText(k, what, &c.webhook_url);
    } else if (k.key == "webhook_url_env") {
      ReadEnvName(k, what, &c.webhook_url_env);
    } else if (k.key == "url") {
      ReadText(k, what, &c.url);
    } else if (k.key == "secret_env") {
      ReadEnvName(k, what, &c.secret_env);
    } else if (k.key == "allow_http_loopback") {
      ReadBool(k, what, &c.allow_http_loopback);
    } else if (k.key == "headers") {
      if (!k.value.IsMap()) {
        WrongType(ValueAt(k), what, "a map of header name to value", k.value);
        continue;
      }
      for (const Entry& h : Entries(k.value)) {
        if (!std::regex_match(h.key, HeaderNamePattern())) {
          Error(h.key_at, "bad-value", what + ": " + Quote(h.key) + " is not a valid HTTP header name");
          continue;
        }
        const std::string lower = Lower(h.key);
        if (std::find(kReservedHeaders.begin(), kReservedHeaders.end(), lower) != kReservedHeaders.end()) {
          Error(h.key_at, "bad-value",
                what + ": header " + Quote(h.key) + " is set by nurt itself and cannot be configured");
          continue;
        }
        if (lower == "authorization" || lower.find("token") != std::string::npos ||
            lower.find("secret") != std::string::npos || lower.find("api-key") != std::string::npos) {
          Error(h.key_at, "inline-secret",
                what + ": header " + Quote(h.key) +
                    " looks like a credential, and this file lives in version control; authenticate the "
                    "webhook with secret_env (Standard Webhooks signature) instead");
          continue;
        }
        std::string value;
        if (!IsText(h.value) && !(h.value.IsScalar() && !h.value.Scalar().empty())) {
          WrongType(ValueAt(h), what + " " + h.key, "text", h.value);
          continue;
        }
        value = h.value.Scalar();
        if (value.find_first_of("\r\n") != std::string::npos) {
          Error(ValueAt(h), "bad-value", what + " " + h.key + ": a header value must be one line");
          continue;
        }
        c.headers.emplace_back(h.key, value);
      }
    } else if (k.key == "throttle") {
      ParseThrottle(k, where, &c);
    } else if (k.key == "timeout") {
      std::string v;
      if (ReadText(k, what, &v)) {
        auto d = ParseIsoDuration(v);
        if (!d.ok()) {
          Error(ValueAt(k), "bad-value", what + ": " + d.status().message());
        } else if (*d > std::chrono::minutes(10) || d->count() < 100) {
          Error(ValueAt(k), "bad-value",
                what + " must be between PT0.1S and PT10M (the dispatcher waits for each send), not " + v);
        } else {
          c.timeout = *d;
        }
      }
    } else if (k.key == "ca_file") {
      ReadText(k, what, &c.ca_file);
    }
  }
  CheckChannel(e, where, present, at, &c);
  if (result_.channels.count(c.name) == 0) result_.channels.emplace(c.name, std::move(c));
}

void ChannelsLoader::ParseThrottle(const Entry& e, const std::string& where, ChannelConfig* c) {
  const std::string what = where + " throttle";
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), what, "a map {limit: N, per: PT1H, policy: queue|drop}", e.value);
    return;
  }
  Throttle t;
  bool ok = true;
  std::set<std::string> present;
  for (const Entry& k : Entries(e.value)) {
    present.insert(k.key);
    if (k.key == "limit") {
      const Json v = k.value.IsScalar() ? dsl::internal::ToJson(k.value) : Json();
      if (!v.is_number_integer()) {
        WrongType(ValueAt(k), what + " limit", "a whole number from 1 to 1000000", k.value);
        ok = false;
      } else if (v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > 1'000'000) {
        Error(ValueAt(k), "bad-value",
              what + " limit must be from 1 to 1000000, not " + std::to_string(v.get<std::int64_t>()));
        ok = false;
      } else {
        t.limit = static_cast<int>(v.get<std::int64_t>());
      }
    } else if (k.key == "per") {
      std::string v;
      if (!ReadText(k, what + " per", &v)) {
        ok = false;
        continue;
      }
      auto d = ParseIsoDuration(v);
      if (!d.ok()) {
        Error(ValueAt(k), "bad-value", what + " per: " + d.status().message());
        ok = false;
      } else if (*d < std::chrono::seconds(1) || *d > std::chrono::hours(24 * 31)) {
        Error(ValueAt(k), "bad-value", what + " per must be between PT1S and P31D, not " + v);
        ok = false;
      } else {
        t.per = *d;
      }
    } else if (k.key == "policy") {
      std::string v;
      if (!ReadText(k, what + " policy", &v)) {
        ok = false;
      } else if (v == "queue") {
        t.policy = ThrottlePolicy::kQueue;
      } else if (v == "drop") {
        t.policy = ThrottlePolicy::kDrop;
      } else {
        Error(ValueAt(k), "bad-value",
              what + " policy is " + Quote(v) + DidYouMean(v, {"queue", "drop"}) +
                  "; write queue (hold back until the window has room) or drop (fail the notification)");
        ok = false;
      }
    } else {
      const std::string hint = DidYouMean(k.key, kThrottleKeys);
      Error(k.key_at, "unknown-key",
            "unknown key " + Quote(k.key) + " in " + what +
                (hint.empty() ? "; the keys allowed here are: " + Join(kThrottleKeys) : hint));
      ok = false;
    }
  }
  for (const char* required : {"limit", "per"}) {
    if (!present.count(required)) {
      Error(e.key_at, "missing-key",
            what + " has no '" + required + "' (required), e.g. throttle: {limit: 100, per: PT1H}");
      ok = false;
    }
  }
  if (ok) c->throttle = t;
}

void ChannelsLoader::CheckChannel(const Entry& e, const std::string& where, const std::set<std::string>& present,
                                  const std::map<std::string, SourceLocation>& at, ChannelConfig* c) {
  auto require = [&](const char* key, const std::string& example) {
    if (present.count(key)) return true;
    Error(e.key_at, "missing-key", where + " has no '" + key + "' (required for this type); add " + example);
    return false;
  };
  if (c->type == ChannelType::kEmail) {
    require("from", "from: \"nurt <nurt@example.pl>\"");
    if (require("smtp_url", "smtp_url: \"smtp://mail.example.pl:587\"") && !c->smtp_url.empty()) {
      const SourceLocation url_at = at.at("smtp_url");
      auto url = internal::ParseUrl(c->smtp_url);
      if (!url.ok()) {
        Error(url_at, "bad-value", where + " smtp_url: " + url.status().message());
      } else if (url->scheme != "smtp" && url->scheme != "smtps") {
        Error(url_at, "bad-value",
              where + " smtp_url must start with smtp:// (STARTTLS) or smtps:// (TLS from the start), not " +
                  url->scheme + "://");
      } else if (url->scheme == "smtp" && c->starttls != StartTls::kRequired && !url->loopback) {
        Error(present.count("starttls") ? at.at("starttls") : url_at, "bad-value",
              where + ": starttls " + (c->starttls == StartTls::kNone ? "none" : "optional") + " to " +
                  url->host +
                  " could send mail (and the SMTP password) unencrypted; use starttls: required or an "
                  "smtps:// URL (plain SMTP is allowed only to a loopback relay)");
      }
    }
    if (!c->username.empty() && c->password_env.empty()) {
      Error(at.at("username"), "missing-key",
            where + " has a username but no password_env; add password_env: <VARIABLE NAME>");
    }
    if (c->username.empty() && !c->password_env.empty()) {
      Error(at.at("password_env"), "missing-key",
            where + " has password_env but no username to log in with; add username:");
    }
  } else if (c->type == ChannelType::kSlack) {
    if (present.count("webhook_url") == present.count("webhook_url_env")) {
      Error(e.key_at, present.count("webhook_url") ? "bad-value" : "missing-key",
            where + " needs exactly one of webhook_url_env (recommended: the URL is a credential) or "
                    "webhook_url");
    } else if (!c->webhook_url.empty()) {
      Status st = internal::CheckHttpUrl(c->webhook_url, c->allow_http_loopback, where + " webhook_url");
      if (!st.ok()) Error(at.at("webhook_url"), "bad-value", st.message());
    }
  } else {
    if (require("url", "url: \"https://example.pl/hooks/nurt\"") && !c->url.empty()) {
      Status st = internal::CheckHttpUrl(c->url, c->allow_http_loopback, where + " url");
      if (!st.ok()) Error(at.at("url"), "bad-value", st.message());
    }
  }
}

ChannelsLoadResult ChannelsLoader::Run() {
  const auto root = ParseSingleDocument(text_, "a channel file holds one document");
  if (!root) return ChannelsLoadResult{std::nullopt, TakeSortedDiagnostics()};
  ReadDocument(*root, [this](const YAML::Node& r) { ParseTop(r); });
  ChannelsLoadResult r;
  r.diagnostics = TakeSortedDiagnostics();
  if (!dsl::HasErrors(r.diagnostics)) r.channels = std::move(result_);
  return r;
}

}  // namespace

const ChannelConfig* ChannelDirectory::Find(const std::string& org, const std::string& channel) const {
  auto o = orgs.find(org);
  if (o == orgs.end()) return nullptr;
  auto c = o->second.channels.find(channel);
  return c == o->second.channels.end() ? nullptr : &c->second;
}

std::vector<std::string> ChannelDirectory::Names(const std::string& org) const {
  std::vector<std::string> out;
  auto o = orgs.find(org);
  if (o == orgs.end()) return out;
  for (const auto& [name, c] : o->second.channels) out.push_back(name);
  return out;
}

bool IsChannelsDocument(const std::string& text) {
  static const std::regex kChannelsKind(R"((^|\n)kind:\s*["']?Channels["']?\s*(#.*)?(\r?\n|$))");
  return std::regex_search(text, kChannelsKind);
}

ChannelsLoadResult LoadChannelsText(const std::string& text, const std::string& file) {
  ChannelsLoader loader(text, file);
  return loader.Run();
}

Result<ChannelFoldersResult> LoadChannelFolders(const std::vector<std::string>& folders,
                                                env::FileSystem* fs) {
  ChannelFoldersResult out;
  auto directory = std::make_shared<ChannelDirectory>();
  for (const auto& dir : folders) {
    if (!fs->IsDirectory(dir)) continue;
    auto files = fs->ListFiles(dir, {".yaml", ".yml"});
    if (!files.ok()) return files.status().WithContext("listing channel files in " + dir);
    for (const auto& file : *files) {
      auto text = fs->ReadFile(file);
      if (!text.ok()) return text.status().WithContext("reading " + file);
      if (!IsChannelsDocument(*text)) continue;
      out.files.push_back(file);
      ChannelsLoadResult r = LoadChannelsText(*text, file);
      for (const auto& d : r.diagnostics) {
        if (d.severity == Severity::kError) out.errors.push_back(d);
      }
      if (!r.channels) continue;
      OrgChannels& org = directory->orgs[r.channels->org];
      org.org = r.channels->org;
      for (auto& [name, c] : r.channels->channels) {
        auto existing = org.channels.find(name);
        if (existing != org.channels.end()) {
          out.errors.push_back(Diagnostic{
              c.location, Severity::kError, "duplicate-channel",
              "channel " + Quote(name) + " of org " + Quote(org.org) + " is already defined at " +
                  existing->second.location.ToString() + "; an org's channel is configured once"});
          continue;
        }
        org.channels.emplace(name, std::move(c));
      }
    }
  }
  out.directory = std::move(directory);
  return out;
}

}  // namespace nurt::notify
