#include "lua/json_bridge.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <tuple>
#include <utility>
#include <vector>

namespace nurt::lua::bridge {

namespace {

// Light-userdata keys; Lua code cannot forge them.
constexpr char kBackingKey = 0;  // P[&kBackingKey] = backing table (once built)
constexpr char kSourceKey = 0;   // P[&kSourceKey] = light userdata: const Json* of a lazy proxy
constexpr char kReadOnlyObjectMtKey = 0;  // registry: shared metatable of read-only objects
constexpr char kReadOnlyArrayMtKey = 0;   // registry: shared metatable of read-only arrays

// -------------------------------------------------------------------------------------------------
// Lua C functions. None of them holds a C++ object with a non-trivial destructor across a call
// that may raise.

// Describes a key for messages ("field 'x'", "index 3") and raises.
[[noreturn]] void RaiseWrite(lua_State* L, const char* what, const char* advice) {
  if (lua_type(L, 2) == LUA_TSTRING) {
    luaL_error(L, "%s (tried to set field '%s'); %s", what, lua_tostring(L, 2), advice);
  } else if (lua_isinteger(L, 2)) {
    luaL_error(L, "%s (tried to set index %I); %s", what, lua_tointeger(L, 2), advice);
  } else {
    luaL_error(L, "%s (tried to set a %s key); %s", what, luaL_typename(L, 2), advice);
  }
  // luaL_error never returns; this keeps [[noreturn]] honest for the compiler.
  std::abort();
}

int RejectDataWrite(lua_State* L) {
  RaiseWrite(L, "guards and expressions cannot change ctx or event",
             "change ctx in a lua/script action instead");
}

int RejectLibraryWrite(lua_State* L) {
  RaiseWrite(L, "the standard library is read-only", "use a local variable instead");
}

int ProxyIndex(lua_State* L) {
  if (!PushProxyData(L, 1)) return luaL_error(L, "internal error: not a nurt proxy");
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

int ProxyLen(lua_State* L) {
  if (!PushProxyData(L, 1)) return luaL_error(L, "internal error: not a nurt proxy");
  lua_pushinteger(L, static_cast<lua_Integer>(lua_rawlen(L, -1)));
  return 1;
}

int ProxyPairs(lua_State* L) {
  if (!PushProxyData(L, 1)) return luaL_error(L, "internal error: not a nurt proxy");
  PushSortedPairs(L, lua_gettop(L), 1);
  return 3;
}

// Pushes a lazy read-only proxy of `value` (a JSON array or object).
void PushLazyProxy(lua_State* L, const Json& value) {
  luaL_checkstack(L, 3, "making a read-only table");
  lua_createtable(L, 0, 2);
  lua_pushlightuserdata(L, const_cast<Json*>(&value));
  lua_rawsetp(L, -2, &kSourceKey);
  lua_rawgetp(L, LUA_REGISTRYINDEX,
              value.is_array() ? &kReadOnlyArrayMtKey : &kReadOnlyObjectMtKey);
  lua_setmetatable(L, -2);
}

// Pushes `value` for a read-only backing table: scalars as themselves, containers as lazy proxies.
void PushReadOnly(lua_State* L, const Json& value, const char* what) {
  if (value.is_structured()) {
    PushLazyProxy(L, value);
  } else {
    PushJson(L, value, false, what);
  }
}

// Builds the backing table of the lazy proxy at `index` from its Json and pushes it.
void BuildBacking(lua_State* L, int index, const Json& source) {
  luaL_checkstack(L, 4, "converting JSON to Lua");
  if (source.is_array()) {
    const auto& arr = source.get_ref<const Json::array_t&>();
    lua_createtable(L, static_cast<int>(std::min<std::size_t>(arr.size(), 1u << 30)), 0);
    lua_Integer i = 0;
    for (const Json& element : arr) {
      PushReadOnly(L, element, "ctx");
      lua_rawseti(L, -2, ++i);
    }
  } else {
    const auto& obj = source.get_ref<const Json::object_t&>();
    lua_createtable(L, 0, static_cast<int>(std::min<std::size_t>(obj.size(), 1u << 30)));
    for (const auto& kv : obj) {
      lua_pushlstring(L, kv.first.data(), kv.first.size());
      PushReadOnly(L, kv.second, "ctx");
      lua_rawset(L, -3);
    }
  }
  lua_pushvalue(L, -1);
  lua_rawsetp(L, index, &kBackingKey);
}

// Shared metatable of read-only data proxies.
void MakeDataMetatable(lua_State* L, const char* name, const void* key) {
  lua_createtable(L, 0, 6);
  lua_pushcfunction(L, ProxyIndex);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, RejectDataWrite);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, ProxyLen);
  lua_setfield(L, -2, "__len");
  lua_pushcfunction(L, ProxyPairs);
  lua_setfield(L, -2, "__pairs");
  lua_pushstring(L, name);
  lua_setfield(L, -2, "__metatable");
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

// Iterator for PushSortedPairs: upvalues (table, sorted keys, position).
int SortedNext(lua_State* L) {
  lua_Integer i = lua_tointeger(L, lua_upvalueindex(3));
  for (;;) {
    ++i;
    if (lua_rawgeti(L, lua_upvalueindex(2), i) == LUA_TNIL) {
      lua_pushinteger(L, i - 1);
      lua_replace(L, lua_upvalueindex(3));
      return 1;  // nil: end of the loop
    }
    lua_pushvalue(L, -1);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) break;  // removed during the loop: skip
    lua_pop(L, 2);
  }
  lua_pushinteger(L, i);
  lua_replace(L, lua_upvalueindex(3));
  return 2;  // key, value
}

// One key of a table being sorted; trivially destructible (it lives in a Lua userdata).
struct SortKey {
  int klass;            // 0 number, 1 string, 2 boolean, 3 anything else
  int is_int;           // numbers: integer or float
  lua_Integer i;        // integer key / boolean value
  lua_Number d;         // float key
  const char* s;        // string key bytes (owned by the table, which is not changed while sorting)
  std::size_t len;      // string key length
  std::size_t ordinal;  // position in `next` order
};

bool NumberLess(const SortKey& a, const SortKey& b) {
  if (a.is_int && b.is_int) return a.i < b.i;
  // long double holds every int64 exactly on the platforms we build for; float keys are never
  // integral (Lua normalises them to integers), so mixed comparisons cannot tie.
  const long double x = a.is_int ? static_cast<long double>(a.i) : static_cast<long double>(a.d);
  const long double y = b.is_int ? static_cast<long double>(b.i) : static_cast<long double>(b.d);
  return x < y;
}

bool SortKeyLess(const SortKey& a, const SortKey& b) {
  if (a.klass != b.klass) return a.klass < b.klass;
  switch (a.klass) {
    case 0:
      return NumberLess(a, b);
    case 1: {
      const int c = std::memcmp(a.s, b.s, std::min(a.len, b.len));
      return c != 0 ? c < 0 : a.len < b.len;
    }
    case 2:
      return a.i < b.i;
    default:
      return a.ordinal < b.ordinal;
  }
}

// -------------------------------------------------------------------------------------------------
// Lua -> JSON.

bool IsIdentifier(std::string_view s) {
  if (s.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

struct PathSegment {
  bool is_index;
  lua_Integer index;
  std::string_view key;
};

// Restores the Lua stack top when a conversion step returns (lua_settop only shrinks here and there
// are no to-be-closed slots in these frames, so it cannot raise).
class StackRestore {
 public:
  explicit StackRestore(lua_State* L) : L_(L), top_(lua_gettop(L)) {}
  ~StackRestore() { lua_settop(L_, top_); }
  StackRestore(const StackRestore&) = delete;
  StackRestore& operator=(const StackRestore&) = delete;

 private:
  lua_State* L_;
  int top_;
};

class ToJsonConverter {
 public:
  ToJsonConverter(lua_State* L, std::string_view root) : L_(L), root_(root) {}

  Status Convert(int index, const Json* hint, Json* out, int depth) {
    if (!lua_checkstack(L_, 4)) return Error("nests too deeply for the Lua stack");
    switch (lua_type(L_, index)) {
      case LUA_TNIL:
        return Error("nil is not a JSON value (use null)");
      case LUA_TBOOLEAN:
        *out = lua_toboolean(L_, index) != 0;
        return Status::Ok();
      case LUA_TNUMBER: {
        if (lua_isinteger(L_, index)) {
          *out = static_cast<std::int64_t>(lua_tointeger(L_, index));
          return Status::Ok();
        }
        const double d = lua_tonumber(L_, index);
        if (std::isnan(d)) return Error("NaN cannot be stored in JSON");
        if (std::isinf(d)) return Error("an infinite number cannot be stored in JSON");
        *out = d;
        return Status::Ok();
      }
      case LUA_TSTRING: {
        std::size_t len = 0;
        const char* s = lua_tolstring(L_, index, &len);
        if (!IsValidUtf8(std::string_view(s, len))) {
          return Error("the string is not valid UTF-8 (JSON text must be UTF-8)");
        }
        *out = std::string(s, len);
        return Status::Ok();
      }
      case LUA_TUSERDATA:
        if (IsNull(L_, index)) {
          *out = nullptr;
          return Status::Ok();
        }
        return Error("a userdata value cannot be stored in JSON");
      case LUA_TTABLE:
        return ConvertTable(index, hint, out, depth);
      default:
        return Error(std::string("a ") + luaL_typename(L_, index) + " cannot be stored in JSON");
    }
  }

 private:
  Status Error(std::string_view problem) const {
    // Long paths (usually a table stored inside itself) keep their head and tail.
    constexpr std::size_t kHead = 8, kTail = 4;
    std::string path(root_);
    for (std::size_t i = 0; i < path_.size(); ++i) {
      if (path_.size() > kHead + kTail + 1 && i >= kHead && i < path_.size() - kTail) {
        if (i == kHead) path += "...";
        continue;
      }
      const PathSegment& seg = path_[i];
      if (seg.is_index) {
        // Appended piecewise: GCC 12 warns falsely (-Wrestrict, PR105651) on "[" + to_string(..) + "]".
        path += '[';
        path += std::to_string(seg.index);
        path += ']';
      } else if (IsIdentifier(seg.key)) {
        path += ".";
        path += seg.key;
      } else {
        path += "[\"";
        for (char c : seg.key) {
          if (c == '"' || c == '\\') path += '\\';
          path += c;
        }
        path += "\"]";
      }
    }
    return Status::InvalidArgument(path + ": " + std::string(problem));
  }

  static std::string DescribeKey(lua_State* L, int index) {
    switch (lua_type(L, index)) {
      case LUA_TSTRING: {
        std::size_t len = 0;
        const char* s = lua_tolstring(L, index, &len);
        std::string quoted(1, '\'');
        quoted.append(s, len);
        quoted += '\'';
        return quoted;
      }
      case LUA_TNUMBER:
        if (lua_isinteger(L, index)) return std::to_string(lua_tointeger(L, index));
        {
          char buf[64];
          std::snprintf(buf, sizeof buf, LUA_NUMBER_FMT,
                        static_cast<double>(lua_tonumber(L, index)));
          return buf;
        }
      case LUA_TBOOLEAN:
        return lua_toboolean(L, index) ? "true" : "false";
      default:
        return std::string("a ") + luaL_typename(L, index);
    }
  }

  Status ConvertTable(int index, const Json* hint, Json* out, int depth) {
    if (depth >= kMaxDepth) {
      return Error("nests deeper than " + std::to_string(kMaxDepth) +
                   " levels (is a table stored inside itself?)");
    }
    if (!lua_checkstack(L_, 8)) return Error("nests too deeply for the Lua stack");
    StackRestore restore(L_);
    bool marked_array = false;
    if (lua_rawgetp(L_, index, &kSourceKey) == LUA_TLIGHTUSERDATA) {
      // A lazy read-only proxy: its data cannot have changed, so copy the JSON it was made from.
      *out = *static_cast<const Json*>(lua_touserdata(L_, -1));
      return Status::Ok();
    }
    lua_pop(L_, 1);
    if (lua_rawgetp(L_, index, &kBackingKey) == LUA_TTABLE) {
      index = lua_gettop(L_);  // a proxy nurt built (event, libraries): convert its data
    } else {
      lua_pop(L_, 1);
      if (lua_getmetatable(L_, index)) {
        PushArrayMetatable(L_);
        marked_array = lua_rawequal(L_, -1, -2) != 0;
        lua_pop(L_, 2);
      }
    }

    // One pass to classify the keys.
    std::size_t count = 0, n_int = 0, n_str = 0;
    lua_Integer min_int = std::numeric_limits<lua_Integer>::max();
    lua_Integer max_int = std::numeric_limits<lua_Integer>::min();
    // Messages quote the least keys, not the first ones `next` meets (its order varies between
    // processes with Lua's string hash seed), so a table always gives the same message.
    std::string odd_key;  // least key that is neither an integer nor a string
    std::tuple<int, double, std::string> odd_rank;
    std::string_view str_key;  // least string key
    lua_pushnil(L_);
    while (lua_next(L_, index) != 0) {
      lua_pop(L_, 1);
      ++count;
      const int kt = lua_type(L_, -1);
      if (kt == LUA_TNUMBER && lua_isinteger(L_, -1)) {
        ++n_int;
        const lua_Integer k = lua_tointeger(L_, -1);
        min_int = std::min(min_int, k);
        max_int = std::max(max_int, k);
      } else if (kt == LUA_TSTRING) {
        std::size_t len = 0;
        const char* s = lua_tolstring(L_, -1, &len);
        if (n_str++ == 0 || std::string_view(s, len) < str_key) str_key = std::string_view(s, len);
      } else {
        const double v = kt == LUA_TNUMBER    ? lua_tonumber(L_, -1)
                         : kt == LUA_TBOOLEAN ? lua_toboolean(L_, -1)
                                              : 0.0;
        auto rank = std::make_tuple(kt, v, std::string(luaL_typename(L_, -1)));
        if (odd_key.empty() || rank < odd_rank) {
          odd_rank = std::move(rank);
          odd_key = DescribeKey(L_, -1);
        }
      }
    }
    std::string str_key_text(1, '\'');  // piecewise: GCC 12 false -Wrestrict on "'" + string
    str_key_text.append(str_key);
    str_key_text += '\'';
    const auto n = static_cast<lua_Integer>(count);
    const bool dense = n_int == count && (count == 0 || (min_int == 1 && max_int == n));

    if (marked_array) {
      if (!odd_key.empty()) return Error("is marked as an array but has the key " + odd_key);
      if (n_str > 0) return Error("is marked as an array but has the key " + str_key_text);
      if (!dense) {
        return Error("is marked as an array but its indices are not 1.." + std::to_string(count) +
                     " (use null for empty slots)");
      }
      return ConvertArray(index, count, hint, out, depth);
    }
    if (count == 0) {
      *out = hint != nullptr && hint->is_array() ? Json::array() : Json::object();
      return Status::Ok();
    }
    if (!odd_key.empty()) {
      return Error("has the key " + odd_key + "; JSON objects need string keys");
    }
    if (dense) return ConvertArray(index, count, hint, out, depth);
    if (n_str == count) return ConvertObject(index, count, hint, out, depth);
    if (n_str > 0) {
      return Error("mixes integer keys and string keys (such as " + str_key_text +
                   "); a JSON value is either an array or an object");
    }
    return Error("has integer keys that are not 1.." + std::to_string(count) +
                 " (a sparse array?); use null for empty slots");
  }

  Status ConvertArray(int index, std::size_t count, const Json* hint, Json* out, int depth) {
    const Json::array_t* hint_arr =
        hint != nullptr && hint->is_array() ? &hint->get_ref<const Json::array_t&>() : nullptr;
    Json result = Json::array();
    auto& vec = result.get_ref<Json::array_t&>();
    vec.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      const auto lua_index = static_cast<lua_Integer>(i + 1);
      lua_rawgeti(L_, index, lua_index);
      path_.push_back({true, lua_index, {}});
      const Json* child_hint =
          hint_arr != nullptr && i < hint_arr->size() ? &(*hint_arr)[i] : nullptr;
      Status s = Convert(lua_gettop(L_), child_hint, &vec[i], depth + 1);
      path_.pop_back();
      lua_pop(L_, 1);
      if (!s.ok()) return s;
    }
    *out = std::move(result);
    return Status::Ok();
  }

  struct KeyEntry {
    std::string_view key;
    std::size_t pos;
    const Json* hint;
  };

  Status ConvertObject(int index, std::size_t count, const Json* hint, Json* out, int depth) {
    constexpr std::size_t kUnplaced = std::numeric_limits<std::size_t>::max();
    std::vector<KeyEntry> keys;
    keys.reserve(count);
    lua_pushnil(L_);
    while (lua_next(L_, index) != 0) {
      lua_pop(L_, 1);
      std::size_t len = 0;
      const char* s = lua_tolstring(L_, -1, &len);  // a string key: no conversion, no allocation
      keys.push_back({std::string_view(s, len), kUnplaced, nullptr});
    }
    auto by_key = [](const KeyEntry& a, const KeyEntry& b) { return a.key < b.key; };
    std::sort(keys.begin(), keys.end(), by_key);
    auto find = [&keys](std::string_view k) -> KeyEntry* {
      auto it = std::lower_bound(keys.begin(), keys.end(), k,
                                 [](const KeyEntry& e, std::string_view v) { return e.key < v; });
      return it != keys.end() && it->key == k ? &*it : nullptr;
    };
    // Keys of the value being replaced keep their places; the others follow in byte order.
    std::size_t next_pos = 0;
    if (hint != nullptr && hint->is_object()) {
      for (const auto& kv : hint->get_ref<const Json::object_t&>()) {
        KeyEntry* e = find(kv.first);
        if (e != nullptr && e->pos == kUnplaced) {
          e->pos = next_pos++;
          e->hint = &kv.second;
        }
      }
    }
    for (KeyEntry& e : keys) {
      if (e.pos == kUnplaced) e.pos = next_pos++;
    }
    std::vector<const KeyEntry*> by_pos(count);
    for (const KeyEntry& e : keys) by_pos[e.pos] = &e;

    Json result = Json::object();
    auto& obj = result.get_ref<Json::object_t&>();
    obj.reserve(count);
    for (const KeyEntry* e : by_pos) obj.emplace_back(std::string(e->key), Json());

    // `next` order varies between processes, so on failure report the problem of the first key in
    // output order, not the first one met.
    Status first_error;
    std::size_t first_error_pos = kUnplaced;
    lua_pushnil(L_);
    while (lua_next(L_, index) != 0) {
      std::size_t len = 0;
      const char* s = lua_tolstring(L_, -2, &len);
      const KeyEntry* e = find(std::string_view(s, len));
      if (e->pos < first_error_pos) {
        path_.push_back({false, 0, e->key});
        Status st = Convert(lua_gettop(L_), e->hint, &(obj.begin() + e->pos)->second, depth + 1);
        path_.pop_back();
        if (!st.ok()) {
          first_error = std::move(st);
          first_error_pos = e->pos;
        }
      }
      lua_pop(L_, 1);
    }
    if (first_error_pos != kUnplaced) return first_error;
    *out = std::move(result);
    return Status::Ok();
  }

  lua_State* L_;
  std::string_view root_;
  std::vector<PathSegment> path_;
};

// -------------------------------------------------------------------------------------------------
// JSON -> Lua.

// Plain tables for `value`, recursively.
void PushJsonAt(lua_State* L, const Json& value, const char* what, int depth) {
  luaL_checkstack(L, 4, "converting JSON to Lua");
  switch (value.type()) {
    case Json::value_t::null:
      PushNull(L);
      return;
    case Json::value_t::boolean:
      lua_pushboolean(L, value.get<bool>() ? 1 : 0);
      return;
    case Json::value_t::number_integer:
      lua_pushinteger(L, static_cast<lua_Integer>(value.get<std::int64_t>()));
      return;
    case Json::value_t::number_unsigned: {
      // Above INT64_MAX a JSON integer has no Lua integer; it becomes the nearest float.
      const auto u = value.get<std::uint64_t>();
      if (u <= static_cast<std::uint64_t>(std::numeric_limits<lua_Integer>::max())) {
        lua_pushinteger(L, static_cast<lua_Integer>(u));
      } else {
        lua_pushnumber(L, static_cast<lua_Number>(u));
      }
      return;
    }
    case Json::value_t::number_float:
      lua_pushnumber(L, value.get<double>());
      return;
    case Json::value_t::string: {
      const std::string& s = value.get_ref<const std::string&>();
      lua_pushlstring(L, s.data(), s.size());
      return;
    }
    case Json::value_t::array: {
      if (depth >= kMaxDepth) luaL_error(L, "%s nests deeper than %d levels", what, kMaxDepth);
      const auto& arr = value.get_ref<const Json::array_t&>();
      const int size_hint =
          static_cast<int>(std::min<std::size_t>(arr.size(), std::numeric_limits<int>::max()));
      lua_createtable(L, size_hint, 0);
      lua_Integer i = 0;
      for (const Json& element : arr) {
        PushJsonAt(L, element, what, depth + 1);
        lua_rawseti(L, -2, ++i);
      }
      PushArrayMetatable(L);
      lua_setmetatable(L, -2);
      return;
    }
    case Json::value_t::object: {
      if (depth >= kMaxDepth) luaL_error(L, "%s nests deeper than %d levels", what, kMaxDepth);
      const auto& obj = value.get_ref<const Json::object_t&>();
      const int size_hint =
          static_cast<int>(std::min<std::size_t>(obj.size(), std::numeric_limits<int>::max()));
      lua_createtable(L, 0, size_hint);
      for (const auto& kv : obj) {
        lua_pushlstring(L, kv.first.data(), kv.first.size());
        PushJsonAt(L, kv.second, what, depth + 1);
        lua_rawset(L, -3);
      }
      return;
    }
    case Json::value_t::binary:
    case Json::value_t::discarded:
      luaL_error(L, "%s holds a %s value, which has no Lua form", what, value.type_name());
      return;
  }
}

int NullToString(lua_State* L) {
  lua_pushliteral(L, "null");
  return 1;
}

}  // namespace

void InstallSentinels(lua_State* L) {
  luaL_checkstack(L, 4, "installing sentinels");
  lua_newuserdatauv(L, 0, 0);
  lua_createtable(L, 0, 3);
  lua_pushcfunction(L, NullToString);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "null");
  lua_setfield(L, -2, "__name");  // "attempt to index a null value"
  lua_pushliteral(L, "null");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kNullKey);

  // Shared by every array; __metatable keeps Lua code from changing it for all of them.
  lua_createtable(L, 0, 2);
  lua_pushliteral(L, "array");
  lua_setfield(L, -2, "__metatable");
  lua_pushliteral(L, "array");
  lua_setfield(L, -2, "__name");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kArrayMtKey);

  MakeDataMetatable(L, "read-only", &kReadOnlyObjectMtKey);
  MakeDataMetatable(L, "array", &kReadOnlyArrayMtKey);
}

void PushNull(lua_State* L) { lua_rawgetp(L, LUA_REGISTRYINDEX, &kNullKey); }

void PushArrayMetatable(lua_State* L) { lua_rawgetp(L, LUA_REGISTRYINDEX, &kArrayMtKey); }

bool IsNull(lua_State* L, int index) {
  if (lua_type(L, index) != LUA_TUSERDATA) return false;
  const void* p = lua_touserdata(L, index);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kNullKey);
  const bool same = lua_touserdata(L, -1) == p;
  lua_pop(L, 1);
  return same;
}

void WrapInProxy(lua_State* L, ProxyKind kind) {
  luaL_checkstack(L, 4, "making a read-only table");
  lua_createtable(L, 0, 1);  // P
  lua_pushvalue(L, -2);
  lua_rawsetp(L, -2, &kBackingKey);
  if (kind == ProxyKind::kData) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &kReadOnlyObjectMtKey);
  } else {
    lua_createtable(L, 0, 5);
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");  // B itself: library lookups take the VM's fast path
    lua_pushcfunction(L, RejectLibraryWrite);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, ProxyLen);
    lua_setfield(L, -2, "__len");
    lua_pushcfunction(L, ProxyPairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushliteral(L, "read-only");
    lua_setfield(L, -2, "__metatable");
  }
  lua_setmetatable(L, -2);
  lua_replace(L, -2);  // P takes B's slot
}

bool PushProxyData(lua_State* L, int index) {
  if (lua_type(L, index) != LUA_TTABLE) return false;
  index = lua_absindex(L, index);
  luaL_checkstack(L, 2, "reading a read-only table");
  if (lua_rawgetp(L, index, &kBackingKey) == LUA_TTABLE) return true;
  lua_pop(L, 1);
  if (lua_rawgetp(L, index, &kSourceKey) != LUA_TLIGHTUSERDATA) {
    lua_pop(L, 1);
    return false;
  }
  const auto* source = static_cast<const Json*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  BuildBacking(L, index, *source);
  return true;
}

void PushJson(lua_State* L, const Json& value, bool read_only, const char* what) {
  if (read_only && value.is_structured()) {
    PushLazyProxy(L, value);
  } else {
    PushJsonAt(L, value, what, 0);
  }
}

Status LuaToJson(lua_State* L, int index, const Json* hint, std::string_view root, Json* out) {
  ToJsonConverter converter(L, root);
  return converter.Convert(lua_absindex(L, index), hint, out, 0);
}

bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t extra;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;  // continuation byte, overlong lead (C0/C1) or beyond U+10FFFF (F5..FF)
    }
    if (n - i <= extra) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

void PushSortedPairs(lua_State* L, int data_index, int state_index) {
  data_index = lua_absindex(L, data_index);
  state_index = lua_absindex(L, state_index);
  luaL_checkstack(L, 8, "pairs");
  std::size_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, data_index) != 0) {
    lua_pop(L, 1);
    ++n;
  }
  // Scratch space lives in Lua userdata so that an out-of-memory error leaks nothing.
  auto* keys = static_cast<SortKey*>(lua_newuserdatauv(L, n * sizeof(SortKey), 0));
  const int keys_slot = lua_gettop(L);
  std::size_t i = 0;
  lua_pushnil(L);
  while (lua_next(L, data_index) != 0) {
    lua_pop(L, 1);
    SortKey k{3, 0, 0, 0.0, nullptr, 0, i};
    switch (lua_type(L, -1)) {
      case LUA_TNUMBER:
        k.klass = 0;
        k.is_int = lua_isinteger(L, -1);
        if (k.is_int) {
          k.i = lua_tointeger(L, -1);
        } else {
          k.d = lua_tonumber(L, -1);
        }
        break;
      case LUA_TSTRING:
        k.klass = 1;
        k.s = lua_tolstring(L, -1, &k.len);
        break;
      case LUA_TBOOLEAN:
        k.klass = 2;
        k.i = lua_toboolean(L, -1);
        break;
      default:
        break;
    }
    keys[i++] = k;
  }
  std::sort(keys, keys + n, SortKeyLess);
  auto* rank = static_cast<std::size_t*>(lua_newuserdatauv(L, n * sizeof(std::size_t), 0));
  for (std::size_t s = 0; s < n; ++s) rank[keys[s].ordinal] = s;
  const int size_hint = static_cast<int>(std::min<std::size_t>(n, std::numeric_limits<int>::max()));
  lua_createtable(L, size_hint, 0);
  i = 0;
  lua_pushnil(L);
  while (lua_next(L, data_index) != 0) {
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, static_cast<lua_Integer>(rank[i++] + 1));
  }
  // Stack: ... keys-scratch rank-scratch sorted
  lua_pushvalue(L, data_index);
  lua_insert(L, -2);
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, SortedNext, 3);
  lua_replace(L, keys_slot);
  lua_settop(L, keys_slot);
  lua_pushvalue(L, state_index);
  lua_pushnil(L);
}

}  // namespace nurt::lua::bridge
