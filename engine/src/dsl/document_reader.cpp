#include "dsl/document_reader.hpp"

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

}  // namespace nurt::dsl::internal
