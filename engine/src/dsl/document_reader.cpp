#include "dsl/document_reader.hpp"

#include <regex>

#include "dsl/loader_impl.hpp"

#include <algorithm>

#include "nurt/core/suggest.hpp"

namespace nurt::dsl::internal {
namespace {

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

std::string Listed(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::vector<Entry> DocumentReader::Entries(const YAML::Node& map) {
  std::vector<Entry> entries;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) {
      WrongType(At(it->first), "a key", "plain text", it->first);
      continue;
    }
    entries.push_back(Entry{it->first.Scalar(), it->first, it->second, At(it->first)});
  }
  return entries;
}

void DocumentReader::CheckDuplicateKeys(const YAML::Node& node) {
  if (node.IsMap()) {
    const YAML::Mark mark = node.Mark();
    if (!checked_maps_.insert({mark.line, mark.column}).second) return;  // an alias seen before
    std::vector<std::pair<std::string, YAML::Mark>> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it->first.IsScalar()) {
        const std::string& key = it->first.Scalar();
        for (const auto& [k, first] : seen) {
          if (k == key) {
            diag_.Error(At(it->first), "duplicate-key",
                        "key " + Quoted(key) + " is written twice in this map (first at line " +
                            std::to_string(first.line + 1) + ", column " + std::to_string(first.column + 1) +
                            "); YAML would silently keep only the last one, so merge the two or rename one");
            break;
          }
        }
        seen.emplace_back(key, it->first.Mark());
      }
      CheckDuplicateKeys(it->second);
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) CheckDuplicateKeys(item);
  }
}

void DocumentReader::UnknownKey(const Entry& e, const std::string& where, const std::vector<std::string>& allowed) {
  const std::string hint = DidYouMean(e.key, allowed);
  diag_.Error(e.key_at, "unknown-key",
              "unknown key " + Quoted(e.key) + " in " + where +
                  (hint.empty() ? "; the keys allowed here are: " + Listed(allowed) : hint));
}

void DocumentReader::WrongType(const SourceLocation& at, const std::string& what, const std::string& expected,
                               const YAML::Node& found) {
  diag_.Error(at, "wrong-type", what + " must be " + expected + ", but it is " + Describe(found));
}

bool DocumentReader::ReadText(const Entry& e, const std::string& what, std::string* out) {
  if (!IsText(e.value)) {
    WrongType(ValueAt(e), what, "text", e.value);
    return false;
  }
  *out = e.value.Scalar();
  return true;
}

bool DocumentReader::ReadBool(const Entry& e, const std::string& what, bool* out) {
  if (!e.value.IsScalar() || ResolveScalar(e.value) != ScalarType::kBool) {
    WrongType(ValueAt(e), what, "true or false", e.value);
    return false;
  }
  *out = ToJson(e.value).get<bool>();
  return true;
}

std::optional<YAML::Node> DocumentReader::ParseSingleDocument(const std::string& text,
                                                              const std::string& one_document) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    diag_.Error(source_.At(e.mark), "yaml-syntax",
                "invalid YAML: " + e.msg +
                    " (check the indentation, unclosed quotes or brackets, and ': ' inside unquoted text)");
    return std::nullopt;
  }
  if (docs.size() > 1) {
    diag_.Error(At(docs[1]), "yaml-syntax",
                "a second YAML document starts here (after '---'); " + one_document + ", so move it to its own file");
  }
  return docs.empty() ? YAML::Node() : docs[0];
}

void DocumentReader::ReadDocument(const YAML::Node& root, const std::function<void(const YAML::Node&)>& parse) {
  try {
    CheckDuplicateKeys(root);
    parse(root);
  } catch (const YAML::Exception& e) {
    diag_.Error(source_.At(e.mark), "yaml-syntax", "cannot read this YAML: " + e.msg);
  }
}

std::vector<Diagnostic> DocumentReader::TakeSortedDiagnostics() {
  std::vector<Diagnostic> out = std::move(diag_.items());
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.location.line != b.location.line) return a.location.line < b.location.line;
    return a.location.column < b.location.column;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Human tasks: machines (`task:`) and rules (`task` action) write them the same way.

void DocumentReader::ParseTaskAssignee(const Entry& e, const std::string& where, TaskSpec* task) {
  const std::string what = "'assignee' of " + where;
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), what, "a map with either 'role' or 'user'", e.value);
    return;
  }
  int given = 0;
  for (const Entry& a : Entries(e.value)) {
    if (a.key == "role") {
      ++given;
      std::string role;
      if (!ReadText(a, "'role' of " + what, &role)) continue;
      const auto& roles = KnownRoles();
      if (std::find(roles.begin(), roles.end(), role) == roles.end()) {
        const std::string hint = DidYouMean(role, roles);
        diag_.Error(ValueAt(a), "unknown-role",
                    "unknown role " + Quote(role) + " in " + what +
                        (hint.empty() ? "" : hint) + " (known roles: " + Join(roles) + ")");
        continue;
      }
      task->assignee_role = role;
    } else if (a.key == "user") {
      ++given;
      std::string user;
      if (!ReadText(a, "'user' of " + what, &user)) continue;
      if (user.empty()) {
        diag_.Error(ValueAt(a), "bad-value", "'user' of " + what + " is empty; give the person's login");
        continue;
      }
      task->assignee_user = user;
    } else {
      UnknownKey(a, what, kAssigneeKeys);
    }
  }
  if (given != 1) {
    diag_.Error(e.key_at, "bad-assignee",
                what + (given == 0 ? " names nobody" : " names both a role and a user") +
                    "; give exactly one: {role: coordinator} or {user: anna@firma.pl}");
  }
}

void DocumentReader::ParseTaskForm(const Entry& e, const std::string& where, TaskSpec* task) {
  const std::string what = "'form' of " + where;
  if (!e.value.IsSequence()) {
    WrongType(ValueAt(e), what, "a list of fields ({name, type, required, label, options})", e.value);
    return;
  }
  for (const auto& item : e.value) {
    if (!item.IsMap()) {
      WrongType(At(item), "a field of the " + what, "a map {name, type, …}", item);
      continue;
    }
    TaskFieldSpec field;
    field.location = At(item);
    bool has_name = false;
    bool has_type = false;
    const Entry* options = nullptr;
    const std::vector<Entry> entries = Entries(item);
    for (const Entry& f : entries) {
      if (f.key == "name") {
        has_name = true;
        if (!ReadText(f, "'name' of a field of the " + what, &field.name)) continue;
        if (!std::regex_match(field.name, IdentifierPattern())) {
          diag_.Error(ValueAt(f), "bad-value",
                      "field name " + Quote(field.name) + " in the " + what +
                          " must start with a letter or '_' and use only letters, digits and '_'");
        } else if (field.name == "task") {
          diag_.Error(ValueAt(f), "bad-value",
                      "field name 'task' in the " + what +
                          " is reserved: the completion event carries the task itself under 'task'; "
                          "rename the field");
        }
      } else if (f.key == "type") {
        has_type = true;
        if (!ReadText(f, "'type' of a field of the " + what, &field.type)) continue;
        const auto& types = TaskFieldTypes();
        if (std::find(types.begin(), types.end(), field.type) == types.end()) {
          diag_.Error(ValueAt(f), "bad-value",
                      "unknown field type " + Quote(field.type) + " in the " + what +
                          DidYouMean(field.type, types) + " (allowed: " + Join(types) + ")");
        }
      } else if (f.key == "required") {
        const bool is_bool = f.value.IsScalar() && ResolveScalar(f.value) == ScalarType::kBool;
        if (!is_bool) {
          WrongType(ValueAt(f), "'required' of a field of the " + what, "true or false", f.value);
          continue;
        }
        field.required = ToJson(f.value).get<bool>();
      } else if (f.key == "label") {
        ReadText(f, "'label' of a field of the " + what, &field.label);
      } else if (f.key == "options") {
        options = &f;
        if (!f.value.IsSequence() || f.value.size() == 0) {
          WrongType(ValueAt(f), "'options' of a field of the " + what, "a non-empty list of values (text)",
                    f.value);
          continue;
        }
        for (const auto& o : f.value) {
          if (!IsText(o)) {
            WrongType(At(o), "an option of a field of the " + what, "text", o);
            continue;
          }
          field.options.push_back(o.Scalar());
        }
      } else {
        UnknownKey(f, "a field of the " + what, kFieldKeys);
      }
    }
    const std::string field_name = field.name.empty() ? std::string("a field") : "field " + Quote(field.name);
    if (!has_name) {
      diag_.Error(field.location, "missing-key", "a field of the " + what + " has no 'name' (required)");
    }
    if (!has_type) {
      diag_.Error(field.location, "missing-key",
                  field_name + " of the " + what + " has no 'type' (required; one of " +
                      Join(TaskFieldTypes()) + ")");
    }
    if (field.type == "enum" && options == nullptr) {
      diag_.Error(field.location, "missing-key",
                  field_name + " of the " + what + " is an enum but has no 'options'; list the values, "
                                                   "e.g. options: [standard, premium]");
    }
    if (options != nullptr && has_type && field.type != "enum") {
      diag_.Error(options->key_at, "bad-value",
                  "'options' of " + field_name + " in the " + what + " only apply to type enum, not " +
                      Quote(field.type) + "; remove them or make the field an enum");
    }
    for (const auto& other : task->form) {
      if (!field.name.empty() && other.name == field.name) {
        diag_.Error(field.location, "duplicate-field",
                    "field " + Quote(field.name) + " appears twice in the " + what + " (first at line " +
                        std::to_string(other.location.line) + "); rename or merge one of them");
        break;
      }
    }
    task->form.push_back(std::move(field));
  }
}

bool DocumentReader::ReadTaskDecision(const Entry& d, const std::string& what, TaskSpec* task) {
  if (!std::regex_match(d.key, IdentifierPattern())) {
    diag_.Error(d.key_at, "bad-value",
                "decision " + Quote(d.key) + " in " + what +
                    " must start with a letter or '_' and use only letters, digits and '_'");
  }
  std::string event;
  if (!ReadText(d, "the event of decision " + Quote(d.key) + " in " + what, &event)) return false;
  if (!std::regex_match(event, EventNamePattern())) {
    diag_.Error(ValueAt(d), "bad-value",
                "event " + Quote(event) + " of decision " + Quote(d.key) + " in " + what +
                    " is not an event name (dot-separated words, e.g. offer.approved)");
    return false;
  }
  task->decisions.emplace_back(d.key, event);
  return true;
}

}  // namespace nurt::dsl::internal
