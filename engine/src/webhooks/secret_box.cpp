#include "webhooks/secret_box.hpp"

#include <openssl/evp.h>

#include <cstdint>
#include <memory>

#include "notify/encoding.hpp"
#include "nurt/core/assert.hpp"

namespace nurt::webhooks::internal {
namespace {

constexpr std::size_t kNonce = 12;
constexpr std::size_t kTag = 16;
constexpr std::string_view kPrefix = "v1.";

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

// Sealing fails only when OpenSSL itself is broken (out of memory): nothing a caller could act on.
void Must(bool ok) { NURT_ASSERT(ok, "OpenSSL AES-256-GCM sealing failed"); }

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

SecretBox::SecretBox(std::string_view master_secret)
    : key_(notify::internal::HmacSha256(master_secret, "nurt/webhook-secret/v1")) {}

std::string SecretBox::Seal(std::string_view secret, std::string_view context, env::Random* random) const {
  std::string nonce(kNonce, '\0');
  random->Fill(reinterpret_cast<std::uint8_t*>(nonce.data()), nonce.size());
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string out(secret.size() + kTag, '\0');
  int len = 0, total = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  Must(ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_), Bytes(nonce)) == 1);
  Must(EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(context), static_cast<int>(context.size())) == 1);
  Must(EVP_EncryptUpdate(ctx.get(), o, &len, Bytes(secret), static_cast<int>(secret.size())) == 1);
  total = len;
  Must(EVP_EncryptFinal_ex(ctx.get(), o + total, &len) == 1);
  total += len;
  Must(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, o + total) == 1);
  out.resize(static_cast<std::size_t>(total) + kTag);
  return std::string(kPrefix) + notify::internal::Base64Encode(nonce + out);
}

Result<std::string> SecretBox::Open(std::string_view sealed, std::string_view context) const {
  const auto fail = [&] {
    return Status::DataLoss("a webhook signing secret cannot be opened: it was sealed under another master secret "
                            "or altered in the database; rotate the webhook's secret (POST "
                            "/v1/webhooks/{id}/rotate-secret) and give the receiver the new one");
  };
  if (sealed.substr(0, kPrefix.size()) != kPrefix) return fail();
  auto raw = notify::internal::Base64Decode(sealed.substr(kPrefix.size()));
  if (!raw || raw->size() < kNonce + kTag) return fail();
  const std::string_view all(*raw);
  const std::string_view nonce = all.substr(0, kNonce);
  const std::string_view body = all.substr(kNonce, all.size() - kNonce - kTag);
  std::string tag(all.substr(all.size() - kTag));
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string out(body.size() + 1, '\0');
  int len = 0, total = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_), Bytes(nonce)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(context), static_cast<int>(context.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), o, &len, Bytes(body), static_cast<int>(body.size())) != 1) {
    return fail();
  }
  total = len;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), o + total, &len) != 1) {
    return fail();
  }
  out.resize(static_cast<std::size_t>(total + len));
  return out;
}

std::string NewSigningSecret(env::Random* random) {
  std::string key(32, '\0');
  random->Fill(reinterpret_cast<std::uint8_t*>(key.data()), key.size());
  return "whsec_" + notify::internal::Base64Encode(key);
}

}  // namespace nurt::webhooks::internal
