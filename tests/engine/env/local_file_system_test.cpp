// LocalFileSystem::CreateFileExclusive on real files: exact mode regardless of umask, refusal to
// replace an existing file, exactly one winner when threads race, no temporary files left behind.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "nurt/env/file_system.hpp"
#include "temp_dir.hpp"

namespace nurt::env {
namespace {

TEST(LocalFileSystem, CreateFileExclusiveWritesContentsWithExactMode) {
  testing::TempDir dir;
  const std::string path = dir.File("secret");
  const mode_t old_umask = ::umask(0);  // the mode must not depend on the process umask
  Status st = LocalFileSystem()->CreateFileExclusive(path, "abc\n", 0600);
  ::umask(old_umask);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(*LocalFileSystem()->ReadFile(path), "abc\n");
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST(LocalFileSystem, CreateFileExclusiveNeverReplacesAFile) {
  testing::TempDir dir;
  const std::string path = dir.File("secret");
  ASSERT_TRUE(LocalFileSystem()->CreateFileExclusive(path, "first", 0600).ok());
  Status st = LocalFileSystem()->CreateFileExclusive(path, "second", 0600);
  EXPECT_TRUE(st.IsAlreadyExists()) << st;
  EXPECT_EQ(*LocalFileSystem()->ReadFile(path), "first");
}

TEST(LocalFileSystem, CreateFileExclusiveHasOneWinnerAndLeavesNoTemporaries) {
  testing::TempDir dir;
  const std::string path = dir.File("secret");
  std::atomic<int> winners{0}, losers{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      Status st = LocalFileSystem()->CreateFileExclusive(path, "writer " + std::to_string(i), 0600);
      (st.ok() ? winners : losers)++;
      EXPECT_TRUE(st.ok() || st.IsAlreadyExists()) << st;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
  EXPECT_EQ(losers.load(), 7);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    EXPECT_EQ(e.path().filename(), "secret");
  }
  EXPECT_EQ(files, 1);
}

TEST(LocalFileSystem, CreateFileExclusiveInAMissingFolderNamesThePath) {
  testing::TempDir dir;
  const std::string path = dir.File("no/such/folder/secret");
  Status st = LocalFileSystem()->CreateFileExclusive(path, "x", 0600);
  EXPECT_TRUE(st.IsUnavailable()) << st;
  EXPECT_NE(st.message().find(path), std::string::npos) << st;
}

}  // namespace
}  // namespace nurt::env
