#include <lua.hpp>

#include <string>

#include "nurt/lua/runtime.hpp"

namespace nurt::lua {

std::optional<SyntaxError> CheckSyntax(const Chunk& chunk, SyntaxKind kind) {
  // Lines are numbered as in the file: the chunk is preceded by first_line-1 newlines.
  std::string text(static_cast<std::size_t>(chunk.first_line > 1 ? chunk.first_line - 1 : 0), '\n');
  if (kind == SyntaxKind::kExpression) {
    text += "return (";
    text += chunk.source;
    text += "\n)";
  } else {
    text += chunk.source;
  }
  lua_State* L = luaL_newstate();
  if (L == nullptr) return SyntaxError{0, "cannot create a Lua state (out of memory)"};
  // A fixed short chunk name: Lua truncates names longer than LUA_IDSIZE (60), which would break the
  // parsing of "<name>:<line>:" below for long file paths. The file is the caller's to report.
  static constexpr char kName[] = "=chunk";
  const int rc = luaL_loadbufferx(L, text.data(), text.size(), kName, "t");
  std::optional<SyntaxError> result;
  if (rc != LUA_OK) {
    std::string msg = lua_tostring(L, -1) ? lua_tostring(L, -1) : "unknown error";
    SyntaxError err;
    // "<file>:<line>: <message>"
    const std::string prefix = std::string(kName + 1) + ":";
    if (msg.rfind(prefix, 0) == 0) {
      std::size_t p = prefix.size();
      std::size_t colon = msg.find(':', p);
      if (colon != std::string::npos) {
        try {
          err.line = std::stoi(msg.substr(p, colon - p));
          msg = msg.substr(colon + 1);
          if (!msg.empty() && msg[0] == ' ') msg.erase(0, 1);
        } catch (...) {
          err.line = 0;
        }
      }
    }
    err.message = msg;
    result = err;
  }
  lua_close(L);
  return result;
}

}  // namespace nurt::lua
