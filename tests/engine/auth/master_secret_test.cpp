// LoadOrCreateSecret on real files and the derived keys.
#include "nurt/auth/master_secret.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>
#include <vector>

#include "seeded_random.hpp"
#include "temp_dir.hpp"

namespace nurt::auth {
namespace {

using ::testing::HasSubstr;

TEST(MasterSecret, CreatedOnceWith64HexCharactersAndMode0600ThenReadBack) {
  testing::TempDir dir;
  testing::SeededRandom random(1);
  const std::string path = dir.File("nurt.db.secret");
  auto first = LoadOrCreateSecret(env::LocalFileSystem(), &random, path);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size(), 64u);
  EXPECT_EQ(first->find_first_not_of("0123456789abcdef"), std::string::npos);
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  testing::SeededRandom other(2);  // a second start must read, not regenerate
  auto second = LoadOrCreateSecret(env::LocalFileSystem(), &other, path);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first);
}

TEST(MasterSecret, ProcessesStartingTogetherAgree) {
  testing::TempDir dir;
  const std::string path = dir.File("s");
  std::vector<std::string> seen(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      testing::SeededRandom random(100 + i);  // each "process" would pick another secret
      auto s = LoadOrCreateSecret(env::LocalFileSystem(), &random, path);
      if (s.ok()) seen[i] = *s;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : seen) EXPECT_EQ(s, seen[0]);
  EXPECT_EQ(seen[0].size(), 64u);
}

TEST(MasterSecret, DamagedFileIsDataLossNamingThePath) {
  testing::TempDir dir;
  const std::string path = dir.File("s");
  std::ofstream(path) << "not a secret\n";
  testing::SeededRandom random;
  auto r = LoadOrCreateSecret(env::LocalFileSystem(), &random, path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr(path));
}

TEST(MasterSecret, UnwritableFolderIsUnavailableNamingThePath) {
  testing::TempDir dir;
  const std::string path = dir.File("missing-folder/s");
  testing::SeededRandom random;
  auto r = LoadOrCreateSecret(env::LocalFileSystem(), &random, path);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsUnavailable()) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr(path));
}

TEST(MasterSecret, DerivedKeysDifferPerPurposeAndPerSecret) {
  const std::string a(64, 'a'), b(64, 'b');
  EXPECT_NE(DeriveKeyHashingKey(a), DeriveTaskLinkKey(a));
  EXPECT_NE(DeriveKeyHashingKey(a), DeriveKeyHashingKey(b));
  EXPECT_EQ(DeriveTaskLinkKey(a), DeriveTaskLinkKey(a));
  EXPECT_EQ(DeriveTaskLinkKey(a).size(), 64u);
}

}  // namespace
}  // namespace nurt::auth
