#pragma once
// Helpers shared by the DSL tests: where the fixtures are, reading files, listing YAML files.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "nurt/dsl/diagnostic.hpp"

namespace nurt::dsl::testing {

inline std::string SourceRoot() { return NURT_SOURCE_ROOT; }
inline std::string FixturesDir() { return SourceRoot() + "/tests/engine/dsl/fixtures"; }

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

// *.yaml / *.yml files under `dir` (recursively when asked), sorted; none when `dir` does not exist.
inline std::vector<std::string> YamlFiles(const std::string& dir, bool recursive) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return files;
  auto add = [&](const std::filesystem::directory_entry& e) {
    const auto ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(e.path().string());
  };
  if (recursive) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) add(e);
  } else {
    for (const auto& e : std::filesystem::directory_iterator(dir)) add(e);
  }
  std::sort(files.begin(), files.end());
  return files;
}

inline std::string Replace(std::string text, const std::string& from, const std::string& to) {
  if (from.empty()) return text;
  for (std::size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

// Diagnostics as `nurt validate` prints them, with `prefix` removed from paths.
inline std::vector<std::string> Render(const std::vector<Diagnostic>& diagnostics, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& d : diagnostics) out.push_back(Replace(d.ToString(), prefix, ""));
  return out;
}

}  // namespace nurt::dsl::testing
