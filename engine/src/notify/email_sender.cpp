#include "nurt/notify/email_sender.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "notify/address.hpp"
#include "notify/curl_session.hpp"
#include "notify/encoding.hpp"

namespace nurt::notify {
namespace {

// "Thu, 01 Jan 2026 09:05:00 +0000" (RFC 5322 §3.3), always UTC.
std::string Rfc5322Date(TimePoint t) {
  using namespace std::chrono;
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const sys_days day = floor<days>(t);
  const year_month_day ymd(day);
  const hh_mm_ss<seconds> hms(floor<seconds>(t - day));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d +0000",
                kDays[weekday(day).c_encoding()], static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

// A mailbox for a header: the display name quoted (ASCII) or RFC 2047-encoded, then <address>.
std::string HeaderMailbox(const internal::Mailbox& m) {
  if (m.display.empty()) return m.address;
  const std::string name = internal::IsAsciiPrintable(m.display) ? "\"" + m.display + "\""
                                                                 : internal::EncodeHeaderText(m.display);
  return name + " <" + m.address + ">";
}

std::string OneLine(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\r' || c == '\n') {
      if (out.empty() || out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

struct Upload {
  const std::string* text;
  std::size_t offset = 0;
};

std::size_t ReadUpload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* u = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, u->text->size() - u->offset);
  std::memcpy(buffer, u->text->data() + u->offset, n);
  u->offset += n;
  return n;
}

class EmailSender final : public Sender {
 public:
  explicit EmailSender(SenderOptions options) : options_(std::move(options)) {
    if (!options_.env) options_.env = ProcessEnvironment();
  }

  Result<Delivery> Send(const ChannelConfig& channel, const Notification& n) override {
    const std::string what = "email channel '" + channel.name + "' (" + channel.smtp_url + ")";
    NURT_ASSIGN_OR_RETURN(EmailMessage message, BuildEmailMessage(channel, n));
    NURT_ASSIGN_OR_RETURN(internal::Mailbox from, internal::ParseMailbox(channel.from));
    const std::vector<std::string>& to = n.to.empty() ? channel.to : n.to;
    std::string password;
    if (!channel.password_env.empty()) {
      auto value = options_.env(channel.password_env);
      if (!value) {
        return Status::InvalidArgument(what + ": the environment variable " + channel.password_env +
                                       " (password_env) is not set in the daemon's environment; set it "
                                       "and restart, or remove username/password_env");
      }
      password = *value;
    }

    internal::CurlSession s;
    if (!s.ok()) return Status::Unavailable(what + ": cannot create a libcurl handle (out of memory?)");
    CURL* c = s.handle();
    s.Common(channel.timeout, internal::TlsSettings{channel.ca_file, options_.verify_tls});
    curl_easy_setopt(c, CURLOPT_URL, channel.smtp_url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    const long use_ssl = channel.starttls == StartTls::kRequired   ? CURLUSESSL_ALL
                         : channel.starttls == StartTls::kOptional ? CURLUSESSL_TRY
                                                                   : CURLUSESSL_NONE;
    curl_easy_setopt(c, CURLOPT_USE_SSL, use_ssl);
    if (!channel.username.empty()) {
      curl_easy_setopt(c, CURLOPT_USERNAME, channel.username.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, password.c_str());
    }
    const std::string mail_from = "<" + from.address + ">";
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from.c_str());
    struct curl_slist* rcpt = nullptr;
    for (const auto& r : to) {
      auto m = internal::ParseMailbox(r);  // checked by BuildEmailMessage
      if (m.ok()) rcpt = curl_slist_append(rcpt, ("<" + m->address + ">").c_str());
    }
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    Upload upload{&message.text};
    curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadUpload);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    const CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(rcpt);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK) {
      const std::string detail = s.ErrorText(rc);
      if (code >= 500 && code < 600) {
        return Status::FailedPrecondition(what + ": the SMTP server refused it with " + std::to_string(code) +
                                          " (" + detail + "); sending it again will not help");
      }
      if (code >= 400 && code < 500) {
        return Status::Unavailable(what + ": the SMTP server answered " + std::to_string(code) + " (" +
                                   detail + "), a temporary refusal; will retry");
      }
      return internal::TransportError(what, rc, detail);
    }
    Delivery d;
    d.message_id = message.message_id;
    d.smtp_code = static_cast<int>(code);
    return d;
  }

 private:
  SenderOptions options_;
};

}  // namespace

std::unique_ptr<Sender> NewEmailSender(const SenderOptions& options) {
  return std::make_unique<EmailSender>(options);
}

Result<EmailMessage> BuildEmailMessage(const ChannelConfig& channel, const Notification& n) {
  const std::string what = "email channel '" + channel.name + "'";
  auto from = internal::ParseMailbox(channel.from);
  if (!from.ok()) return from.status().WithContext(what + " from");
  const std::vector<std::string>& to = n.to.empty() ? channel.to : n.to;
  if (to.empty()) {
    return Status::InvalidArgument(what + ": no recipients: the notification has no \"to\" and the "
                                          "channel no default `to:` list");
  }
  std::string to_header;
  for (const auto& r : to) {
    auto m = internal::ParseMailbox(r);
    if (!m.ok()) return m.status().WithContext(what + " recipient");
    to_header += (to_header.empty() ? "" : ",\r\n ") + HeaderMailbox(*m);
  }
  const std::string domain = from->address.substr(from->address.find('@') + 1);
  EmailMessage message;
  message.message_id = "<nurt." + Sha256Hex(n.org + "\n" + n.idempotency_key).substr(0, 32) + "@" + domain + ">";
  std::string& m = message.text;
  m += "Date: " + Rfc5322Date(n.now) + "\r\n";
  m += "From: " + HeaderMailbox(*from) + "\r\n";
  m += "To: " + to_header + "\r\n";
  m += "Subject: " + internal::EncodeHeaderText(OneLine(n.subject)) + "\r\n";
  m += "Message-ID: " + message.message_id + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: quoted-printable\r\n";
  m += "Auto-Submitted: auto-generated\r\n";
  m += "\r\n";
  m += internal::QuotedPrintable(n.text);
  return message;
}

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

}  // namespace nurt::notify
