#pragma once
// The master secret of a nurt installation and the keys derived from it.
//
// One file (default "<database>.secret") holds 64 lowercase hex characters (256 random bits).
// Nothing uses the master secret directly: each purpose gets its own key, HMAC-SHA256(master,
// label), so a key leaked from one purpose (say, a task-link key in a debugger) cannot forge
// another (API key hashes).
//
// Thread-safety: pure functions apart from the file system, whose implementations are thread-safe.

#include <string>

#include "nurt/core/result.hpp"
#include "nurt/env/file_system.hpp"
#include "nurt/env/random.hpp"

namespace nurt::auth {

// Reads the master secret at `path`, or creates it (mode 0600, created atomically: of several
// processes starting together exactly one writes it and all of them read the same secret). Errors
// name the path:
//   DataLoss     the file exists but does not hold 64 hex characters (restore it from backup; a new
//                secret invalidates every API key and task link)
//   Unavailable  it cannot be read or created
Result<std::string> LoadOrCreateSecret(env::FileSystem* fs, env::Random* random,
                                       const std::string& path);

// The key under which API key secrets are hashed (hex of HMAC-SHA256(master,
// "nurt/api-key-hash/v1")).
std::string DeriveKeyHashingKey(const std::string& master_secret);
// The key that signs task links (hex of HMAC-SHA256(master, "nurt/task-link/v1")).
std::string DeriveTaskLinkKey(const std::string& master_secret);

}  // namespace nurt::auth
