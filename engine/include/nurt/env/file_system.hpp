#pragma once
// nurt::env::FileSystem — the file operations nurt's tools need, behind a port (leveldb Env style) so
// that nothing outside engine/src/env touches std::filesystem directly and tests can substitute files.
//
// Thread-safety: implementations must be safe to call from any thread.

#include <string>
#include <vector>

#include "nurt/core/result.hpp"

namespace nurt::env {

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // NotFound when missing; Unavailable when it cannot be read.
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  virtual bool IsDirectory(const std::string& path) = 0;
  // Regular files below `dir` (recursively) whose names end with one of `suffixes`, sorted by path.
  // NotFound when `dir` is not a directory.
  virtual Result<std::vector<std::string>> ListFiles(const std::string& dir,
                                                     const std::vector<std::string>& suffixes) = 0;
  // Creates `path` holding `contents` with permission bits exactly `mode` (e.g. 0600), only if no file
  // of that name exists, atomically: other processes see no file or the whole, synced contents, and
  // of two processes racing to create it exactly one succeeds. AlreadyExists when the file exists
  // (the caller reads it instead); Unavailable when it cannot be written (the message names the path).
  virtual Status CreateFileExclusive(const std::string& path, const std::string& contents,
                                     int mode) = 0;
  // A new, empty, private folder under the system's temporary folder, named `prefix` + a random suffix
  // (scenario runs keep their throwaway store there). Unavailable when it cannot be created.
  virtual Result<std::string> MakeScratchDirectory(const std::string& prefix) = 0;
  // Removes `path` and everything below it; missing is fine.
  virtual void RemoveTree(const std::string& path) = 0;
};

// The local disk. Never null; lives for the whole process.
FileSystem* LocalFileSystem();

}  // namespace nurt::env
