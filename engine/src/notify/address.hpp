#pragma once
// Parsing the addresses a channel names: URLs (what scheme to which host) and mailboxes
// ("Name <addr>"). Private to nurt_notify: the channel loader checks them when a file is loaded, the
// senders again at send time (a URL read from an environment variable is only known then).
//
// Thread-safety: pure functions.

#include <string>

#include "nurt/core/result.hpp"

namespace nurt::notify::internal {

struct Url {
  std::string scheme;  // lower-case: "https", "http", "smtp", "smtps"
  std::string host;    // without brackets for IPv6 ("::1")
  bool loopback = false;  // 127.0.0.0/8, ::1 or localhost
};

// Splits scheme://host[:port][/path][?query]. InvalidArgument ("'x' is not a URL: ...") otherwise.
Result<Url> ParseUrl(const std::string& text);

// An HTTP(S) target a channel may post to: https, or http to a loopback host when
// `allow_http_loopback`. InvalidArgument saying what to change otherwise. `what` names the setting.
Status CheckHttpUrl(const std::string& text, bool allow_http_loopback, const std::string& what);

struct Mailbox {
  std::string display;  // "" when none
  std::string address;  // local@domain
};

// "addr@example.pl" or "Display Name <addr@example.pl>" (the name may be quoted). The address must have
// one '@', a non-empty local part and domain, and no spaces, control characters, '<', '>' or ','.
Result<Mailbox> ParseMailbox(const std::string& text);

}  // namespace nurt::notify::internal
