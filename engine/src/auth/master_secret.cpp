#include "nurt/auth/master_secret.hpp"

#include "auth/crypto.hpp"

namespace nurt::auth {
namespace {

constexpr std::size_t kSecretHexLength = 64;

bool IsLowerHex(const std::string& s) {
  return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// The file's text without one trailing newline (editors add one); anything else must be exact.
Result<std::string> ParseSecret(const std::string& text, const std::string& path) {
  std::string s = text;
  if (!s.empty() && s.back() == '\n') s.pop_back();
  if (s.size() != kSecretHexLength || !IsLowerHex(s)) {
    return Status::DataLoss("master secret file '" + path + "' does not hold " +
                            std::to_string(kSecretHexLength) +
                            " lowercase hex characters; restore it from backup (a new secret "
                            "invalidates every API key and task link: delete the file only if "
                            "that is what you want)");
  }
  return s;
}

std::string Derive(const std::string& master_secret, std::string_view label) {
  return internal::HexEncode(internal::HmacSha256(master_secret, label));
}

}  // namespace

Result<std::string> LoadOrCreateSecret(env::FileSystem* fs, env::Random* random,
                                       const std::string& path) {
  auto existing = fs->ReadFile(path);
  if (existing.ok()) return ParseSecret(*existing, path);
  if (!existing.status().IsNotFound()) {
    return existing.status().WithContext("reading the master secret '" + path + "'");
  }
  const std::string fresh = random->Hex(kSecretHexLength / 2);
  Status created = fs->CreateFileExclusive(path, fresh + "\n", 0600);
  if (created.ok()) return fresh;
  if (!created.IsAlreadyExists()) {
    return created.WithContext("creating the master secret '" + path + "'");
  }
  // Another process created it between our read and our create: use theirs.
  auto theirs = fs->ReadFile(path);
  if (!theirs.ok()) return theirs.status().WithContext("reading the master secret '" + path + "'");
  return ParseSecret(*theirs, path);
}

std::string DeriveKeyHashingKey(const std::string& master_secret) {
  return Derive(master_secret, "nurt/api-key-hash/v1");
}

std::string DeriveTaskLinkKey(const std::string& master_secret) {
  return Derive(master_secret, "nurt/task-link/v1");
}

}  // namespace nurt::auth
