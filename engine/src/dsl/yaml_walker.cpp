#include "dsl/yaml_walker.hpp"

#include <cmath>
#include <cstdlib>
#include <regex>

namespace nurt::dsl::internal {

namespace {

constexpr const char* kTagPrefix = "tag:yaml.org,2002:";

bool Matches(const std::string& s, const std::regex& re) { return std::regex_match(s, re); }

const std::regex& IntDecimal() {
  static const std::regex re("[-+]?[0-9]+");
  return re;
}
const std::regex& IntOctal() {
  static const std::regex re("0o[0-7]+");
  return re;
}
const std::regex& IntHex() {
  static const std::regex re("0x[0-9a-fA-F]+");
  return re;
}
const std::regex& Float() {
  static const std::regex re("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  return re;
}

bool IsNullText(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}
bool IsTrueText(const std::string& s) { return s == "true" || s == "True" || s == "TRUE"; }
bool IsFalseText(const std::string& s) { return s == "false" || s == "False" || s == "FALSE"; }

ScalarType ResolvePlain(const std::string& s) {
  if (IsNullText(s)) return ScalarType::kNull;
  if (IsTrueText(s) || IsFalseText(s)) return ScalarType::kBool;
  if (Matches(s, IntDecimal()) || Matches(s, IntOctal()) || Matches(s, IntHex())) return ScalarType::kInt;
  if (Matches(s, Float())) return ScalarType::kFloat;
  return ScalarType::kString;
}

Json IntToJson(const std::string& s) {
  errno = 0;
  char* end = nullptr;
  long long v = 0;
  if (s.rfind("0o", 0) == 0) {
    v = std::strtoll(s.c_str() + 2, &end, 8);
  } else if (s.rfind("0x", 0) == 0) {
    v = std::strtoll(s.c_str() + 2, &end, 16);
  } else {
    v = std::strtoll(s.c_str(), &end, 10);
  }
  if (errno == ERANGE) return Json(std::strtod(s.c_str(), nullptr));  // too big for int64: keep magnitude
  return Json(static_cast<std::int64_t>(v));
}

}  // namespace

ScalarType ResolveScalar(const YAML::Node& node) {
  if (node.IsNull()) return ScalarType::kNull;
  const std::string& tag = node.Tag();
  const std::string& text = node.Scalar();
  if (tag == "?") return ResolvePlain(text);
  if (tag.rfind(kTagPrefix, 0) == 0) {
    const std::string kind = tag.substr(std::string(kTagPrefix).size());
    if (kind == "null") return ScalarType::kNull;
    if (kind == "bool" && (IsTrueText(text) || IsFalseText(text))) return ScalarType::kBool;
    if (kind == "int" && (Matches(text, IntDecimal()) || Matches(text, IntOctal()) || Matches(text, IntHex()))) {
      return ScalarType::kInt;
    }
    if (kind == "float" && (Matches(text, Float()) || Matches(text, IntDecimal()))) return ScalarType::kFloat;
  }
  return ScalarType::kString;  // quoted, block, !!str and unknown tags
}

bool IsText(const YAML::Node& node) {
  return (node.IsScalar() || node.IsNull()) && ResolveScalar(node) == ScalarType::kString;
}

Json ToJson(const YAML::Node& node) {
  if (node.IsMap()) {
    Json out = Json::object();
    for (auto it = node.begin(); it != node.end(); ++it) {
      out[it->first.Scalar()] = ToJson(it->second);
    }
    return out;
  }
  if (node.IsSequence()) {
    Json out = Json::array();
    for (const auto& item : node) out.push_back(ToJson(item));
    return out;
  }
  if (!node.IsDefined() || node.IsNull()) return Json(nullptr);
  const std::string& s = node.Scalar();
  switch (ResolveScalar(node)) {
    case ScalarType::kNull:
      return Json(nullptr);
    case ScalarType::kBool:
      return Json(IsTrueText(s));
    case ScalarType::kInt:
      return IntToJson(s);
    case ScalarType::kFloat: {
      const double d = std::strtod(s.c_str(), nullptr);
      if (std::isfinite(d)) return Json(d);
      return Json(s);
    }
    case ScalarType::kString:
      return Json(s);
  }
  return Json(s);
}

std::string Describe(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  if (!node.IsDefined() || node.IsNull()) return "nothing (null)";
  switch (ResolveScalar(node)) {
    case ScalarType::kNull:
      return "nothing (null)";
    case ScalarType::kBool:
      return "a boolean (true/false)";
    case ScalarType::kInt:
    case ScalarType::kFloat:
      return "a number";
    case ScalarType::kString:
      return "text";
  }
  return "text";
}

SourceText::SourceText(const std::string& text, std::string file) : file_(std::move(file)) {
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      lines_.push_back(text.substr(start));
      break;
    }
    std::string line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines_.push_back(std::move(line));
    start = nl + 1;
  }
}

SourceLocation SourceText::At(const YAML::Mark& mark) const {
  if (mark.is_null()) return SourceLocation{file_, 0, 0};
  return SourceLocation{file_, mark.line + 1, mark.column + 1};
}

const std::string& SourceText::Line(int line0) const {
  static const std::string kEmpty;
  if (line0 < 0 || line0 >= line_count()) return kEmpty;
  return lines_[static_cast<std::size_t>(line0)];
}

char SourceText::CharAt(const YAML::Mark& mark) const {
  if (mark.is_null()) return 0;
  const std::string& line = Line(mark.line);
  if (mark.column < 0 || static_cast<std::size_t>(mark.column) >= line.size()) return 0;
  return line[static_cast<std::size_t>(mark.column)];
}

SourceLocation TextStart(const SourceText& source, const YAML::Node& node, bool* block) {
  if (block) *block = false;
  const YAML::Mark mark = node.Mark();
  const char c = source.CharAt(mark);
  if (c == '|' || c == '>') {
    if (block) *block = true;
    // The content starts on the next line; its column is the block's indentation, taken from the first
    // line that is not blank.
    int column = 1;
    for (int l = mark.line + 1; l < source.line_count(); ++l) {
      const std::string& text = source.Line(l);
      const std::size_t first = text.find_first_not_of(' ');
      if (first != std::string::npos) {
        column = static_cast<int>(first) + 1;
        break;
      }
    }
    return source.At(mark.line + 2, column);
  }
  if (c == '"' || c == '\'') return source.At(mark.line + 1, mark.column + 2);
  return source.At(mark);
}

}  // namespace nurt::dsl::internal
