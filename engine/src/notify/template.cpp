#include "nurt/notify/template.hpp"

#include <cstddef>
#include <string>

namespace nurt::notify {
namespace {

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// A path is key(.key)*; every key non-empty.
bool IsPath(std::string_view path) {
  if (path.empty()) return false;
  bool segment_empty = true;
  for (char c : path) {
    if (c == '.') {
      if (segment_empty) return false;
      segment_empty = true;
    } else if (IsKeyChar(c)) {
      segment_empty = false;
    } else {
      return false;
    }
  }
  return !segment_empty;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Where byte `offset` of `tmpl` is, for messages: "column 7" or "line 2, column 7". Columns count
// UTF-8 characters (continuation bytes are skipped), so Polish text does not shift them.
std::string Where(std::string_view tmpl, std::size_t offset) {
  int line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < tmpl.size(); ++i) {
    const auto c = static_cast<unsigned char>(tmpl[i]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++column;
    }
  }
  const bool multi_line = tmpl.find('\n') != std::string_view::npos;
  return multi_line ? "line " + std::to_string(line) + ", column " + std::to_string(column)
                    : "column " + std::to_string(column);
}

bool IsIndex(std::string_view s) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The value at a dotted path, or null when any step is missing.
const Json* Lookup(const Json& vars, std::string_view path) {
  const Json* at = &vars;
  while (true) {
    const auto dot = path.find('.');
    const std::string_view key = path.substr(0, dot);
    if (at->is_object()) {
      auto it = at->find(std::string(key));
      if (it == at->end()) return nullptr;
      at = &*it;
    } else if (at->is_array() && IsIndex(key)) {
      const std::size_t index = std::stoul(std::string(key));
      if (index >= at->size()) return nullptr;
      at = &(*at)[index];
    } else {
      return nullptr;
    }
    if (dot == std::string_view::npos) return at;
    path.remove_prefix(dot + 1);
  }
}

std::string ValueText(const Json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Control characters (CR, LF, the rest of C0 and DEL) become one space; runs collapse.
std::string OneLine(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  bool in_run = false;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) {
      if (!in_run) out += ' ';
      in_run = true;
    } else {
      out += ch;
      in_run = false;
    }
  }
  return out;
}

std::string Escape(const std::string& value, Escaping escaping) {
  switch (escaping) {
    case Escaping::kText:
    case Escaping::kWebhook:
      return value;
    case Escaping::kEmailHeader:
      return OneLine(value);
    case Escaping::kSlack: {
      std::string out;
      out.reserve(value.size());
      for (char c : value) {
        if (c == '&') {
          out += "&amp;";
        } else if (c == '<') {
          out += "&lt;";
        } else if (c == '>') {
          out += "&gt;";
        } else {
          out += c;
        }
      }
      return out;
    }
  }
  return value;
}

// Walks the template once. With `vars` null only the syntax is checked.
Result<RenderedText> Walk(std::string_view tmpl, const Json* vars, Escaping escaping) {
  RenderedText out;
  std::size_t i = 0;
  while (i < tmpl.size()) {
    const std::size_t open = tmpl.find("{{", i);
    if (open == std::string_view::npos) {
      out.text.append(tmpl.substr(i));
      break;
    }
    out.text.append(tmpl.substr(i, open - i));
    if (tmpl.substr(open, 4) == "{{{{") {
      out.text += "{{";
      i = open + 4;
      continue;
    }
    const std::size_t close = tmpl.find("}}", open + 2);
    const std::size_t next_open = tmpl.find("{{", open + 2);
    if (close == std::string_view::npos || (next_open != std::string_view::npos && next_open < close)) {
      return Status::InvalidArgument(
          "template error at " + Where(tmpl, open) +
          ": '{{' is not closed by '}}'; write {{path.to.value}}, or {{{{ for a literal '{{'");
    }
    const std::string_view inner = tmpl.substr(open + 2, close - open - 2);
    const std::string_view path = Trim(inner);
    if (path.empty()) {
      return Status::InvalidArgument("template error at " + Where(tmpl, open) +
                                     ": empty placeholder '{{}}'; write a path such as "
                                     "{{context.customer.name}}, or {{{{ for a literal '{{'");
    }
    if (!IsPath(path)) {
      return Status::InvalidArgument(
          "template error at " + Where(tmpl, open) + ": '" + std::string(path) +
          "' is not a path; a placeholder holds dot-separated keys of letters, digits, '_' and '-', "
          "such as {{context.customer.name}} or {{event.payload.items.0.sku}}");
    }
    if (vars != nullptr) {
      const Json* value = Lookup(*vars, path);
      if (value == nullptr) {
        out.warnings.push_back("{{" + std::string(path) + "}} at " + Where(tmpl, open) +
                               ": no value at '" + std::string(path) + "'; rendered as empty text");
      } else {
        out.text += Escape(ValueText(*value), escaping);
      }
    }
    i = close + 2;
  }
  if (escaping == Escaping::kEmailHeader) out.text = OneLine(out.text);
  return out;
}

}  // namespace

Result<RenderedText> RenderTemplate(std::string_view tmpl, const Json& vars, Escaping escaping) {
  return Walk(tmpl, &vars, escaping);
}

Status CheckTemplate(std::string_view tmpl) {
  auto r = Walk(tmpl, nullptr, Escaping::kText);
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace nurt::notify
