#include "notify/encoding.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <vector>

namespace nurt::notify::internal {

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '+' || c == '/';
    const bool pad = c == '=' && i + 2 >= text.size() && (i + 1 == text.size() || text[i + 1] == '=');
    if (!alpha && !pad) return std::nullopt;
  }
  std::string out(3 * text.size() / 4 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes.
  std::size_t size = static_cast<std::size_t>(n);
  if (!text.empty() && text.back() == '=') --size;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --size;
  out.resize(size);
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

bool IsAsciiPrintable(std::string_view text) {
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

std::string QuotedPrintable(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  std::string line;  // the current encoded line
  auto flush_line = [&](bool hard) {
    // Trailing space or tab before a hard break must be encoded (RFC 2045 rule 3).
    if (hard && !line.empty() && (line.back() == ' ' || line.back() == '\t')) {
      const char last = line.back();
      line.pop_back();
      if (line.size() + 3 > 76) {
        out += line + "=\r\n";
        line.clear();
      }
      line += '=';
      line += kHex[static_cast<unsigned char>(last) >> 4];
      line += kHex[static_cast<unsigned char>(last) & 0xF];
    }
    out += line;
    out += hard ? "\r\n" : "=\r\n";
    line.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;  // CRLF: the LF breaks
    if (c == '\n') {
      flush_line(true);
      continue;
    }
    std::string piece;
    const bool literal = (c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t';
    if (literal && !(c == '.' && line.empty())) {
      piece = std::string(1, static_cast<char>(c));
    } else {
      piece = {'=', kHex[c >> 4], kHex[c & 0xF]};
    }
    // Keep each encoded line at most 76 characters including the soft-break '='.
    if (line.size() + piece.size() > 75) flush_line(false);
    if (piece == "." && line.empty()) piece = "=2E";
    line += piece;
  }
  if (!line.empty()) flush_line(true);
  return out;
}

std::string EncodeHeaderText(std::string_view utf8) {
  if (IsAsciiPrintable(utf8)) return std::string(utf8);
  // An encoded word may be 75 characters, but it shares its line with the header name ("Subject: ") or
  // the address after a display name; 30 bytes make 52-character words, so every line stays within the
  // recommended 78.
  constexpr std::size_t kMaxBytes = 30;
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < utf8.size()) {
    std::size_t end = i;
    while (end < utf8.size()) {
      // Length of the UTF-8 character starting at `end`.
      const auto c = static_cast<unsigned char>(utf8[end]);
      std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
      if (end + len > utf8.size()) len = utf8.size() - end;
      if (end + len - i > kMaxBytes) break;
      end += len;
    }
    if (end == i) end = i + 1;  // cannot happen with kMaxBytes >= 4; keeps the loop finite
    words.push_back("=?UTF-8?B?" + Base64Encode(utf8.substr(i, end - i)) + "?=");
    i = end;
  }
  std::string out;
  for (std::size_t w = 0; w < words.size(); ++w) {
    if (w) out += "\r\n ";
    out += words[w];
  }
  return out;
}

}  // namespace nurt::notify::internal
