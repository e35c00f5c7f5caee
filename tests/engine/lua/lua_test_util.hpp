#pragma once
// Shared fixture for the nurt::lua tests: one RuntimeImpl (for its test hooks) and short helpers
// that run a chunk from a named file.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lua/runtime_impl.hpp"
#include "nurt/lua/runtime.hpp"

namespace nurt::lua {

class LuaTest : public ::testing::Test {
 protected:
  void SetUp() override { Reset(Limits{}); }

  void Reset(const Limits& limits) {
    auto rt = RuntimeImpl::Create(limits);
    ASSERT_TRUE(rt.ok()) << rt.status();
    rt_ = std::move(rt).value();
  }

  static Chunk At(std::string_view source, std::string_view file = "test.lua", int first_line = 1) {
    return Chunk{source, file, first_line};
  }

  Result<Json> Eval(std::string_view source, const Json& ctx = Json::object()) {
    return rt_->Evaluate(At(source), ctx, env_);
  }

  Result<bool> Guard(std::string_view source, const Json& ctx = Json::object()) {
    return rt_->EvaluateGuard(At(source), ctx, env_);
  }

  // Runs statements against *ctx, collecting requests in requests_.
  Status Exec(std::string_view source, Json* ctx) {
    return rt_->Execute(At(source), ctx, env_, &requests_);
  }

  // Runs statements against an empty object and returns the resulting ctx (or the error).
  Result<Json> ExecCtx(std::string_view source, Json ctx = Json::object()) {
    Status s = Exec(source, &ctx);
    if (!s.ok()) return s;
    return ctx;
  }

  std::unique_ptr<RuntimeImpl> rt_;
  CallEnv env_;
  std::vector<Request> requests_;
};

}  // namespace nurt::lua
