#pragma once
// W3C Trace Context level 1 `traceparent` header: "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>".
//
// Parsing follows the spec: lowercase hex only, exact field lengths, trace id and parent id not all
// zeros, version "ff" invalid. A version above 00 is parsed as 00 when its first 55 characters have the
// 00 shape and anything after them starts with '-' (the spec's forward-compatibility rule).
// Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nurt::server {

struct TraceParent {
  std::string trace_id;   // 32 lowercase hex, not all zeros
  std::string parent_id;  // 16 lowercase hex, not all zeros
  std::uint8_t flags = 0;  // bit 0: sampled

  bool sampled() const { return (flags & 0x01) != 0; }
};

// nullopt when `header` is not a valid traceparent (the caller then starts a new trace).
std::optional<TraceParent> ParseTraceparent(std::string_view header);

// "00-<trace_id>-<parent_id>-<flags as 2 hex>".
std::string FormatTraceparent(const TraceParent& parent);

}  // namespace nurt::server
