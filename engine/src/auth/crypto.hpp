#pragma once
// The few cryptographic and encoding primitives nurt_auth needs, over OpenSSL (private to
// nurt_auth). Nothing here is hand-rolled crypto: HMAC-SHA256 is OpenSSL's HMAC, constant-time
// comparison is CRYPTO_memcmp; the encoders only turn bytes into URL- and header-safe text.
//
// Thread-safety: pure functions.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace nurt::auth::internal {

// The 32-byte HMAC-SHA256 of `data` under `key`, as raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

// Equal length and equal bytes, in time that depends only on the length (CRYPTO_memcmp).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

std::string HexEncode(std::string_view bytes);

// RFC 4648 §5 base64url without padding.
std::string Base64UrlEncode(std::string_view bytes);
// Strict inverse of Base64UrlEncode: rejects padding, characters outside the alphabet, impossible
// lengths and non-zero unused bits (so every byte string has exactly one encoding).
std::optional<std::string> Base64UrlDecode(std::string_view text);

// Lowercase Crockford base32 ("0123456789abcdefghjkmnpqrstvwxyz"): letters and digits only, so a
// token survives URLs, headers, shells and double-click selection. 5 bits per character.
inline constexpr std::string_view kBase32Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
std::string Base32Encode(std::string_view bytes);
// Characters needed to encode `bytes` bytes.
inline constexpr std::size_t Base32Length(std::size_t bytes) { return (bytes * 8 + 4) / 5; }
bool IsBase32(std::string_view text);

}  // namespace nurt::auth::internal
