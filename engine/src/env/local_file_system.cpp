#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nurt/env/file_system.hpp"

namespace nurt::env {
namespace {

namespace fs = std::filesystem;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class LocalFs final : public FileSystem {
 public:
  Result<std::string> ReadFile(const std::string& path) override {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return Status::NotFound("file '" + path + "' does not exist");
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::Unavailable("cannot read '" + path + "'");
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
  }

  bool IsDirectory(const std::string& path) override {
    std::error_code ec;
    return fs::is_directory(path, ec);
  }

  Result<std::vector<std::string>> ListFiles(const std::string& dir,
                                             const std::vector<std::string>& suffixes) override {
    if (!IsDirectory(dir)) return Status::NotFound("folder '" + dir + "' does not exist");
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      const std::string p = it->path().string();
      if (std::any_of(suffixes.begin(), suffixes.end(),
                      [&](const std::string& s) { return EndsWith(p, s); })) {
        out.push_back(p);
      }
    }
    if (ec) return Status::Unavailable("cannot list '" + dir + "': " + ec.message());
    std::sort(out.begin(), out.end());
    return out;
  }
};

}  // namespace

FileSystem* LocalFileSystem() {
  static LocalFs fs;
  return &fs;
}

}  // namespace nurt::env
