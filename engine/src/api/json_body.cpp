#include "api/json_body.hpp"

#include <algorithm>
#include <variant>

#include "nurt/core/suggest.hpp"

namespace nurt::api {
namespace {

// Follows the parser through the document, only to know where it is when it fails: nlohmann's own error
// names a byte offset, which means nothing to someone who built the body in code.
class PathTracker : public nlohmann::json_sax<Json> {
 public:
  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override {
    Enter();
    stack_.push_back(Frame{true, "", 0, false});
    return true;
  }
  bool key(string_t& k) override {
    stack_.back().key = k;
    stack_.back().has_current = true;
    return true;
  }
  bool end_object() override { return Leave(); }
  bool start_array(std::size_t) override {
    Enter();
    stack_.push_back(Frame{false, "", 0, false});
    return true;
  }
  bool end_array() override { return Leave(); }
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& ex) override {
    failed_ = true;
    position_ = position;
    last_token_ = last_token;
    message_ = ex.what();
    return false;
  }

  bool failed() const { return failed_; }
  std::size_t position() const { return position_; }
  const std::string& message() const { return message_; }
  const std::string& last_token() const { return last_token_; }

  // The pointer of the value being read: in an array, the element after the last complete one.
  std::string Pointer() const {
    std::string out;
    for (const Frame& f : stack_) {
      if (f.object) {
        if (f.has_current) out += "/" + JsonPointerEscape(f.key);
      } else {
        out += "/" + std::to_string(f.index);
      }
    }
    return out;
  }

 private:
  struct Frame {
    bool object;
    std::string key;
    std::size_t index;
    bool has_current;
  };
  void Enter() {}
  bool Value() {
    Advance();
    return true;
  }
  bool Leave() {
    stack_.pop_back();
    Advance();
    return true;
  }
  // A completed value moves an array to its next index. In an object the key stays until the next one
  // replaces it: text after a value ("12zl") is most likely a mistake in that value.
  void Advance() {
    if (stack_.empty()) return;
    Frame& f = stack_.back();
    if (!f.object) ++f.index;
  }

  std::vector<Frame> stack_;
  bool failed_ = false;
  std::size_t position_ = 0;
  std::string message_, last_token_;
};

std::string TypeName(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}


}  // namespace

std::string JsonPointerEscape(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

Json ParseJsonBody(std::string_view body, bool empty_is_object) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    if (empty_is_object) return Json::object();
    Throw(400, "malformed_json", "the request body is empty; this route expects a JSON object", "");
  }
  PathTracker tracker;
  std::string text(body);
  const bool ok = Json::sax_parse(text, &tracker, Json::input_format_t::json, /*strict=*/true);
  if (!ok || tracker.failed()) {
    // Line and column of the byte where the parser stopped (1-based), for people reading the body.
    const std::size_t pos = std::min(tracker.position() > 0 ? tracker.position() - 1 : 0, text.size());
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i < pos; ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    const std::string pointer = tracker.Pointer();
    Json details{{"line", line}, {"column", col}, {"near", tracker.last_token()}};
    Throw(400, "malformed_json",
          "the request body is not valid JSON at line " + std::to_string(line) + ", column " +
              std::to_string(col) + (pointer.empty() ? "" : " (while reading " + pointer + ")") + ": " +
              tracker.message(),
          pointer.empty() ? "" : pointer, std::move(details));
  }
  return Json::parse(text);
}

BodyReader::BodyReader(const Json& object, std::string base) : object_(object), base_(std::move(base)) {
  if (!object_.is_object()) {
    Throw(400, "invalid_field",
          (base_.empty() ? std::string("the request body") : base_) + " must be a JSON object, not " +
              TypeName(object_),
          base_.empty() ? "" : base_);
  }
}

std::string BodyReader::Pointer(std::string_view key) const {
  return base_ + "/" + JsonPointerEscape(key);
}

const Json* BodyReader::Find(std::string_view key) const {
  auto it = object_.find(std::string(key));
  return it == object_.end() ? nullptr : &*it;
}

bool BodyReader::Has(std::string_view key) const { return Find(key) != nullptr; }

void BodyReader::WrongType(std::string_view key, std::string_view expected) const {
  Throw(400, "invalid_field",
        Pointer(key) + ": expected " + std::string(expected) + ", got " + TypeName(*Find(key)),
        Pointer(key));
}

std::string BodyReader::RequiredString(std::string_view key) const {
  const Json* v = Find(key);
  if (v == nullptr) Throw(400, "invalid_field", Pointer(key) + ": required field is missing", Pointer(key));
  if (!v->is_string()) WrongType(key, "a string");
  if (v->get<std::string>().empty()) {
    Throw(400, "invalid_field", Pointer(key) + ": must not be empty", Pointer(key));
  }
  return v->get<std::string>();
}

std::string BodyReader::OptionalString(std::string_view key, std::string fallback) const {
  const Json* v = Find(key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_string()) WrongType(key, "a string");
  return v->get<std::string>();
}

std::optional<std::int64_t> BodyReader::OptionalInt(std::string_view key) const {
  const Json* v = Find(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_number_integer() && !v->is_number_unsigned()) WrongType(key, "an integer");
  return v->get<std::int64_t>();
}

Json BodyReader::OptionalObject(std::string_view key, Json fallback) const {
  const Json* v = Find(key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_object()) WrongType(key, "an object");
  return *v;
}

std::vector<std::string> BodyReader::OptionalStringArray(std::string_view key) const {
  const Json* v = Find(key);
  if (v == nullptr || v->is_null()) return {};
  if (!v->is_array()) WrongType(key, "an array of strings");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) {
      const std::string p = Pointer(key) + "/" + std::to_string(i);
      Throw(400, "invalid_field", p + ": expected a string, got " + TypeName((*v)[i]), p);
    }
    out.push_back((*v)[i].get<std::string>());
  }
  return out;
}

void BodyReader::RejectUnknown(std::initializer_list<std::string_view> allowed) const {
  for (const auto& [k, _] : object_.items()) {
    if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
    const std::string hint =
        Suggest(k, std::vector<std::string>(allowed.begin(), allowed.end())).value_or("");
    std::string known;
    for (std::string_view a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
    Throw(400, "invalid_field",
          Pointer(k) + ": unknown field" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
              "; known fields: " + known,
          Pointer(k));
  }
}

}  // namespace nurt::api
