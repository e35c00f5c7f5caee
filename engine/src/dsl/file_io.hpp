#pragma once
// The few file operations the DSL loader needs (private). Paths are handled as text (lexically), so the
// loader needs no std::filesystem (see CONVENTIONS.md item 3); reading goes through <fstream>/stat().

#include <optional>
#include <string>

namespace nurt::dsl::internal {

// The whole content of a regular file; nullopt when it does not exist, is not a regular file or cannot
// be read.
std::optional<std::string> ReadRegularFile(const std::string& path);
bool IsDirectory(const std::string& path);

// "a/b/c.yaml" -> "a/b"; "c.yaml" -> "."; "/c.yaml" -> "/".
std::string DirName(const std::string& path);
// "a" + "b" -> "a/b" (b absolute: b).
std::string JoinPath(const std::string& a, const std::string& b);
// Lexical normalisation: removes "." segments, folds "x/.." and repeated slashes; keeps leading "..".
std::string NormalizePath(const std::string& path);
// True when `path` is relative and no ".." segment leaves its starting folder.
bool IsInsideRelative(const std::string& path);

}  // namespace nurt::dsl::internal
