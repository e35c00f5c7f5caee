#pragma once
// Signing secrets at rest (private to nurt_webhooks): a subscription's "whsec_…" secret is stored
// sealed with AES-256-GCM under a key derived from the installation's master secret
// (HMAC-SHA256(master, "nurt/webhook-secret/v1")), so a copy of the database alone cannot forge
// nurt's webhooks. Sealed text: "v1." + base64(12-byte nonce | ciphertext | 16-byte tag), with the
// org and webhook id as associated data (a sealed secret moved to another row does not open).
//
// Thread-safety: const methods; Seal draws from `random`, which must be thread-safe.

#include <string>
#include <string_view>

#include "nurt/core/result.hpp"
#include "nurt/env/random.hpp"

namespace nurt::webhooks::internal {

class SecretBox {
 public:
  explicit SecretBox(std::string_view master_secret);

  std::string Seal(std::string_view secret, std::string_view context, env::Random* random) const;
  // DataLoss when the text was not sealed by this installation's master secret for `context` (the
  // master secret changed, or the row was altered).
  Result<std::string> Open(std::string_view sealed, std::string_view context) const;

 private:
  std::string key_;  // 32 raw bytes
};

// "whsec_" + base64 of 32 random bytes: the Standard Webhooks secret format.
std::string NewSigningSecret(env::Random* random);

}  // namespace nurt::webhooks::internal
