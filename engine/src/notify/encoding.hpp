#pragma once
// Byte encodings the senders need (private to nurt_notify), over OpenSSL where it has them.
//
// Thread-safety: pure functions.

#include <optional>
#include <string>
#include <string_view>

namespace nurt::notify::internal {

// RFC 4648 §4 base64 with padding (OpenSSL EVP_EncodeBlock), one line.
std::string Base64Encode(std::string_view bytes);
// Strict inverse: padding required, no whitespace; nullopt for anything else.
std::optional<std::string> Base64Decode(std::string_view text);

// HMAC-SHA256 (OpenSSL HMAC) of `data` under `key`, raw 32 bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

// RFC 2045 §6.7 quoted-printable of UTF-8 text: line breaks (LF or CRLF) become CRLF, lines are cut
// with soft breaks at 76 characters, '=' and non-ASCII bytes are =XX, trailing spaces before a break
// are encoded, and a '.' starting a line is =2E (so no line can end the SMTP DATA).
std::string QuotedPrintable(std::string_view text);

// RFC 2047 header text: ASCII printable text as it is; otherwise `=?UTF-8?B?…?=` encoded words of at
// most 52 characters (30 bytes), split between (never inside) UTF-8 characters, joined by CRLF + space
// (folding).
std::string EncodeHeaderText(std::string_view utf8);

bool IsAsciiPrintable(std::string_view text);

}  // namespace nurt::notify::internal
