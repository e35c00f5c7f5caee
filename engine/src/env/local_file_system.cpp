#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nurt/env/file_system.hpp"

namespace nurt::env {
namespace {

namespace fs = std::filesystem;

std::string ErrnoText(int err) { return std::strerror(err); }

// Writes all of `data` to `fd`, retrying short writes and EINTR. Returns 0 or an errno value.
int WriteAll(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

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

  // Write a private temporary file completely, then link(2) it to the final name: link never
  // replaces an existing file, so of two racing processes exactly one wins, and a reader can never see
  // a half-written file (rename(2) would silently replace the winner's file instead).
  Status CreateFileExclusive(const std::string& path, const std::string& contents,
                             int mode) override {
    static std::atomic<unsigned> counter{0};
    const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." +
                            std::to_string(counter.fetch_add(1));
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Status::Unavailable("cannot create '" + tmp + "' (to write '" + path +
                                 "'): " + ErrnoText(errno) +
                                 "; check that the folder exists and is writable");
    }
    int err = WriteAll(fd, contents);
    // fchmod: the mode given to open() is reduced by the umask; the caller asked for exact bits.
    if (err == 0 && ::fchmod(fd, static_cast<mode_t>(mode)) != 0) err = errno;
    if (err == 0 && ::fsync(fd) != 0) err = errno;
    if (::close(fd) != 0 && err == 0) err = errno;
    if (err != 0) {
      ::unlink(tmp.c_str());
      return Status::Unavailable("cannot write '" + tmp + "' (to create '" + path +
                                 "'): " + ErrnoText(err) + "; check free space and permissions");
    }
    const int linked = ::link(tmp.c_str(), path.c_str());
    const int link_err = errno;
    ::unlink(tmp.c_str());
    if (linked != 0) {
      if (link_err == EEXIST) return Status::AlreadyExists("file '" + path + "' already exists");
      return Status::Unavailable("cannot create '" + path + "': " + ErrnoText(link_err) +
                                 "; check that the folder is writable (and supports hard links)");
    }
    // Make the new directory entry durable too.
    const std::string dir = fs::path(path).parent_path().string();
    const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    return Status::Ok();
  }

  Result<std::string> MakeScratchDirectory(const std::string& prefix) override {
    std::error_code ec;
    const fs::path base = fs::temp_directory_path(ec);
    if (ec) return Status::Unavailable("no temporary folder: " + ec.message());
    std::string pattern = (base / (prefix + "XXXXXX")).string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return Status::Unavailable("cannot create a folder under " + base.string() + ": " + std::strerror(errno));
    }
    return pattern;
  }

  void RemoveTree(const std::string& path) override {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

FileSystem* LocalFileSystem() {
  static LocalFs fs;
  return &fs;
}

}  // namespace nurt::env
