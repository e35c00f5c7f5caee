#include "nurt/server/trace_context.hpp"

#include <cstdio>

namespace nurt::server {
namespace {

bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool AllZeros(std::string_view text) { return text.find_first_not_of('0') == std::string_view::npos; }

}  // namespace

std::optional<TraceParent> ParseTraceparent(std::string_view header) {
  // version(2) '-' trace-id(32) '-' parent-id(16) '-' flags(2) = 55 characters.
  constexpr std::size_t kLength = 55;
  if (header.size() < kLength) return std::nullopt;
  std::string_view version = header.substr(0, 2);
  if (!IsLowerHex(version) || version == "ff") return std::nullopt;
  if (version == "00" ? header.size() != kLength : (header.size() > kLength && header[kLength] != '-')) {
    return std::nullopt;
  }
  if (header[2] != '-' || header[35] != '-' || header[52] != '-') return std::nullopt;
  std::string_view trace_id = header.substr(3, 32);
  std::string_view parent_id = header.substr(36, 16);
  std::string_view flags = header.substr(53, 2);
  if (!IsLowerHex(trace_id) || !IsLowerHex(parent_id) || !IsLowerHex(flags)) return std::nullopt;
  if (AllZeros(trace_id) || AllZeros(parent_id)) return std::nullopt;
  TraceParent parent;
  parent.trace_id = std::string(trace_id);
  parent.parent_id = std::string(parent_id);
  parent.flags = static_cast<std::uint8_t>(std::stoi(std::string(flags), nullptr, 16));
  return parent;
}

std::string FormatTraceparent(const TraceParent& parent) {
  char flags[3];
  std::snprintf(flags, sizeof flags, "%02x", parent.flags);
  return "00-" + parent.trace_id + "-" + parent.parent_id + "-" + flags;
}

}  // namespace nurt::server
