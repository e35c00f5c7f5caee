#pragma once
// Checks instance data against a machine's `context.schema` (valijson, draft 7 keywords).

#include <memory>
#include <string>

#include "nurt/core/json.hpp"
#include "nurt/core/status.hpp"

namespace nurt::engine {

class ContextSchema {
 public:
  // REQUIRES: `schema` was accepted by the loader (rule `bad-schema`).
  explicit ContextSchema(const Json& schema);
  ~ContextSchema();
  ContextSchema(const ContextSchema&) = delete;
  ContextSchema& operator=(const ContextSchema&) = delete;

  // InvalidArgument listing every violation as "<JSON pointer>: <what>", prefixed by `what`.
  Status Check(const Json& data, const std::string& what) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nurt::engine
