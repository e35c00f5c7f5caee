#pragma once
// The Store conformance suite: every nurt::store::Store implementation must pass the TEST_Ps in
// store_conformance_test.cpp. An implementation's test file supplies a StoreFactory and
// instantiates the suite (GoogleTest's "abstract value-parameterised test" pattern):
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest, ::testing::Values(SqliteFactory()),
//                            StoreFactoryName);
//
// sqlite_store_test.cpp does this for SQLite; a PostgreSQL *_pgtest.cpp will do the same.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "nurt/store/store.hpp"

namespace nurt::store {

// One empty database for one test.
class StoreHarness {
 public:
  virtual ~StoreHarness() = default;
  // Opens a Store on this harness's database. Called again after the previous Store was destroyed
  // (reopen), and in a forked child process (crash tests), so it must not depend on state that does
  // not survive fork().
  virtual Result<std::unique_ptr<Store>> Open() = 0;
  // Checks the physical integrity of the database with the engine's own tools (SQLite:
  // PRAGMA integrity_check and foreign_key_check). OK or DataLoss with the findings.
  // REQUIRES: no Store from Open() is alive.
  virtual Status CheckIntegrity() = 0;
};

struct StoreFactory {
  std::string name;  // the test-name suffix: letters and digits only
  std::function<std::unique_ptr<StoreHarness>()> make;
};

inline void PrintTo(const StoreFactory& factory, std::ostream* os) { *os << factory.name; }
inline std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

class StoreConformanceTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Destroys the current store and opens a new one on the same database.
  void Reopen();

  std::unique_ptr<StoreHarness> harness_;
  std::unique_ptr<Store> store_;
};

}  // namespace nurt::store
