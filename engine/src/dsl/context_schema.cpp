// bad-schema: `context.schema` must be a JSON Schema valijson can use, and `context.initial` must satisfy it.

#ifndef VALIJSON_USE_EXCEPTIONS
#define VALIJSON_USE_EXCEPTIONS 1  // valijson aborts the process on a bad schema otherwise
#endif
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <exception>
#include <string>
#include <vector>

#include "dsl/model.hpp"

namespace nurt::dsl::internal {

namespace {

// `$schema` values we accept. valijson implements draft 7; the keywords a process designer writes for
// instance data (type, properties, required, items, enum, minimum, pattern, $ref into the same document…)
// mean the same in 2020-12.
bool IsSupportedDialect(const std::string& uri) {
  static const char* kUris[] = {
      "https://json-schema.org/draft/2020-12/schema", "https://json-schema.org/draft/2020-12/schema#",
      "http://json-schema.org/draft-07/schema",       "http://json-schema.org/draft-07/schema#",
      "https://json-schema.org/draft-07/schema",      "https://json-schema.org/draft-07/schema#",
  };
  for (const char* u : kUris) {
    if (uri == u) return true;
  }
  return false;
}

// valijson context "[name]" / "[3]" steps from "<root>" into the YAML of context.initial.
YAML::Node Locate(YAML::Node node, const std::vector<std::string>& context) {
  for (std::size_t i = 1; i < context.size(); ++i) {
    const std::string& step = context[i];
    if (step.size() < 2 || step.front() != '[' || step.back() != ']') return YAML::Node();
    const std::string key = step.substr(1, step.size() - 2);
    YAML::Node next;
    if (node.IsMap()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (it->first.Scalar() == key) next.reset(it->second);
      }
    } else if (node.IsSequence()) {
      try {
        const std::size_t index = std::stoul(key);
        if (index < node.size()) next.reset(node[index]);
      } catch (const std::exception&) {
        return YAML::Node();
      }
    }
    if (!next.IsDefined()) return YAML::Node();
    node.reset(next);  // rebind the handle (operator= would overwrite the node in the tree)
  }
  return node;
}

std::string PathText(const std::vector<std::string>& context) {
  std::string out = "context.initial";
  for (std::size_t i = 1; i < context.size(); ++i) {
    const std::string& step = context[i];
    const std::string key = step.size() >= 2 ? step.substr(1, step.size() - 2) : step;
    const bool index = !key.empty() && key.find_first_not_of("0123456789") == std::string::npos;
    out += index ? "[" + key + "]" : "." + key;
  }
  return out;
}

bool IsPrefix(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.size() >= b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace

void CheckContextSchema(const Model& model, const SourceText& source, Diagnostics& diagnostics) {
  if (!model.context_schema.IsDefined() || !model.context_schema.IsMap()) return;
  const Json ordered = ToJson(model.context_schema);
  const nlohmann::json schema_json = nlohmann::json::parse(ordered.dump());

  if (schema_json.contains("$schema")) {
    const auto& dialect = schema_json["$schema"];
    if (!dialect.is_string() || !IsSupportedDialect(dialect.get<std::string>())) {
      SourceLocation at = model.context_schema_at;
      for (auto it = model.context_schema.begin(); it != model.context_schema.end(); ++it) {
        if (it->first.Scalar() == "$schema") at = source.At(it->second.Mark());
      }
      diagnostics.Error(at, "bad-schema",
                        "context.schema's $schema " + dialect.dump() +
                            " is not supported; use \"https://json-schema.org/draft/2020-12/schema\" or "
                            "\"http://json-schema.org/draft-07/schema#\", or leave $schema out");
      return;
    }
  }

  valijson::Schema schema;
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(schema_json);
    parser.populateSchema(adapter, schema);
  } catch (const std::exception& e) {
    diagnostics.Error(model.context_schema_at, "bad-schema",
                      std::string("context.schema is not a usable JSON Schema: ") + e.what() +
                          "; fix the schema (see https://json-schema.org/understanding-json-schema/)");
    return;
  }

  // The data given when an instance starts may supply the top-level `required` fields, so context.initial
  // is checked against the schema without them.
  nlohmann::json relaxed_json = schema_json;
  relaxed_json.erase("required");
  valijson::Schema relaxed;
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(relaxed_json);
    parser.populateSchema(adapter, relaxed);
  } catch (const std::exception&) {
    return;  // cannot happen: the full schema parsed
  }

  const nlohmann::json initial = nlohmann::json::parse(model.definition.initial_context.dump());
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(initial);
  if (validator.validate(relaxed, target, &results)) return;

  std::vector<valijson::ValidationResults::Error> errors;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) errors.push_back(error);
  for (const auto& e : errors) {
    // Report the deepest problems only ("failed to validate property 'a'" just repeats them).
    bool has_deeper = false;
    for (const auto& other : errors) {
      if (IsPrefix(e.context, other.context)) has_deeper = true;
    }
    if (has_deeper) continue;
    SourceLocation at = model.context_initial_at;
    if (model.context_initial.IsDefined() && model.context_initial.IsMap()) {
      YAML::Node node = Locate(model.context_initial, e.context);
      if (node.IsDefined() && !node.Mark().is_null()) at = source.At(node.Mark());
    }
    std::string what = e.description;
    while (!what.empty() && (what.back() == '.' || what.back() == ' ')) what.pop_back();
    diagnostics.Error(at, "bad-schema",
                      PathText(e.context) + " does not satisfy context.schema: " + what +
                          "; change the initial value or the schema");
  }
}

}  // namespace nurt::dsl::internal
