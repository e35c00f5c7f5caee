#pragma once
// Bugs in nurt itself (never bad input) stop the process with a message naming the broken contract.

#include <string>

namespace nurt::detail {
[[noreturn]] void AssertFail(const char* expr, const char* file, int line, const std::string& msg);
}  // namespace nurt::detail

#define NURT_ASSERT(cond, msg)                                               \
  do {                                                                       \
    if (!(cond)) ::nurt::detail::AssertFail(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)
#define NURT_INVARIANT(cond, msg) NURT_ASSERT(cond, msg)
