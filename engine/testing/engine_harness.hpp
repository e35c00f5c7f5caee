#pragma once
// An engine on a real SQLite store in a throwaway folder, driven by a manual clock: what engine-level
// tests start from. Header-only so that nurt_testing stays free of the engine (area tests link it too).

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "manual_clock.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/store/store.hpp"
#include "temp_dir.hpp"

namespace nurt::testing {

struct EngineHarness {
  TempDir dir;
  ManualClock clock;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<engine::Engine> engine;

  // (Re)opens the store file in `dir` and makes a new engine on it, as a restarted process would.
  // fsync is off: durability is the store's own tests' business, and these tests should not wait on
  // the disk. `tune` may adjust the engine options first.
  ::testing::AssertionResult Open(const std::function<void(engine::EngineOptions&)>& tune = {}) {
    engine.reset();
    store.reset();
    store::SqliteOptions so;
    so.path = dir.File("nurt.db");
    so.fsync_on_commit = false;
    auto st = store::NewSqliteStore(so);
    if (!st.ok()) return ::testing::AssertionFailure() << st.status();
    store = std::move(st).value();
    engine::EngineOptions eo;
    eo.store = store.get();
    eo.clock = &clock;
    if (tune) tune(eo);
    auto e = engine::NewEngine(eo);
    if (!e.ok()) return ::testing::AssertionFailure() << e.status();
    engine = std::move(e).value();
    return ::testing::AssertionSuccess();
  }
};

}  // namespace nurt::testing
