// The `call:` action (docs/effects.md): an adapter call written to the outbox in the transition's commit.
// Checked here against the adapter catalog: the adapter must exist, the input's field names must be
// ones its schema allows, required fields must be there, and literal values must satisfy their
// property's schema. Values that are Lua expressions are only known at run time: the dispatcher checks
// the evaluated input against the full schema before calling.

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

#include "dsl/loader_impl.hpp"
#include "nurt/core/suggest.hpp"

namespace nurt::dsl::internal {
namespace {

// The first problem of `value` against `schema` ("" when it satisfies it).
std::string FirstViolation(const Json& schema, const Json& value) {
  try {
    const nlohmann::json s = nlohmann::json::parse(schema.dump());
    const nlohmann::json v = nlohmann::json::parse(value.dump());
    valijson::Schema parsed;
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter schema_adapter(s);
    parser.populateSchema(schema_adapter, parsed);
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter target(v);
    if (validator.validate(parsed, target, &results)) return "";
    // Report the deepest problem ("failed to validate property" only repeats what is below it).
    valijson::ValidationResults::Error error, deepest;
    while (results.popError(error)) {
      if (error.context.size() > deepest.context.size() || deepest.description.empty()) deepest = error;
    }
    std::string where;
    for (std::size_t i = 1; i < deepest.context.size(); ++i) where += deepest.context[i];
    std::string what = deepest.description.empty() ? "does not match the schema" : deepest.description;
    while (!what.empty() && (what.back() == '.' || what.back() == ' ')) what.pop_back();
    return where.empty() ? what : what + " (at " + where + ")";
  } catch (const std::exception& e) {
    return std::string("cannot be checked: ") + e.what();
  }
}

}  // namespace

void Loader::ParseCall(const Entry& e, ActionSpec* action) {
  const std::string where = "'call' action";
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), where,
              "a map, e.g. call: { adapter: http, step: order, input: { url: ctx.partner_url } }", e.value);
    return;
  }
  const AdapterCatalog& catalog = options_.adapters != nullptr ? *options_.adapters : BuiltinAdapters();
  std::vector<std::string> names;
  for (const auto& [name, schema] : catalog) names.push_back(name);

  bool has_adapter = false, has_step = false;
  const Json* schema = nullptr;
  const Entry* input = nullptr;
  std::vector<Entry> entries = Entries(e.value);
  for (const Entry& x : entries) {
    if (x.key == "adapter") {
      if (!ReadText(x, "'adapter' of the " + where, &action->adapter)) continue;
      has_adapter = true;
      auto it = catalog.find(action->adapter);
      if (it == catalog.end()) {
        diag_.Error(ValueAt(x), "unknown-adapter",
                    "unknown adapter " + Quote(action->adapter) + DidYouMean(action->adapter, names) +
                        " (known: " + Join(names) + ")");
      } else {
        schema = &it->second;
      }
    } else if (x.key == "step") {
      if (!ReadText(x, "'step' of the " + where, &action->step)) continue;
      has_step = true;
      if (!std::regex_match(action->step, EventNamePattern())) {
        diag_.Error(ValueAt(x), "bad-value",
                    "step " + Quote(action->step) +
                        " must be dot-separated words of letters, digits, '_' and '-': it names the answer "
                        "events <step>.done and <step>.failed");
      }
    } else if (x.key == "input") {
      input = &x;
      ParseData(x, "'input' of the " + where, &action->data, &action->data_fields, &action->data_is_map);
    } else if (x.key == "retry") {
      action->retry = ToJson(x.value);
      auto policy = ParseRetryPolicy(action->retry);
      if (!policy.ok()) {
        diag_.Error(ValueAt(x), "bad-value", "'retry' of the " + where + ": " + policy.status().message());
      } else {
        action->retry = policy->ToJson();
      }
    } else {
      UnknownKey(x, where, kCallKeys);
    }
  }
  if (!has_adapter) {
    diag_.Error(e.key_at, "missing-key",
                "the " + where + " has no 'adapter'; name one of: " + Join(names));
  }
  if (!has_step) {
    diag_.Error(e.key_at, "missing-key",
                "the " + where + " has no 'step'; name it (e.g. step: order) to receive order.done / "
                                 "order.failed");
  }
  if (schema == nullptr || input == nullptr || !input->value.IsMap()) {
    if (schema != nullptr && input == nullptr && schema->contains("required") &&
        !(*schema)["required"].empty()) {
      diag_.Error(e.key_at, "bad-input",
                  "the " + where + " has no 'input'; adapter " + Quote(action->adapter) + " requires " +
                      (*schema)["required"].dump());
    }
    return;
  }
  // Field by field: names, then literal values.
  const Json properties = schema->value("properties", Json::object());
  const bool closed = schema->contains("additionalProperties") && (*schema)["additionalProperties"] == false;
  std::vector<std::string> allowed;
  for (const auto& [name, s] : properties.items()) allowed.push_back(name);
  std::vector<std::string> present;
  for (const Entry& f : Entries(input->value)) {
    present.push_back(f.key);
    if (!properties.contains(f.key)) {
      if (closed) {
        diag_.Error(f.key_at, "bad-input",
                    "adapter " + Quote(action->adapter) + " has no input " + Quote(f.key) +
                        DidYouMean(f.key, allowed) + " (allowed: " + Join(allowed) + ")");
      }
      continue;
    }
    if (IsText(f.value)) continue;  // an expression: checked at run time
    const std::string why = FirstViolation(properties[f.key], ToJson(f.value));
    if (!why.empty()) {
      diag_.Error(ValueAt(f), "bad-input",
                  "input " + Quote(f.key) + " of adapter " + Quote(action->adapter) + ": " + why);
    }
  }
  for (const Json& r : schema->value("required", Json::array())) {
    const std::string name = r.get<std::string>();
    if (std::find(present.begin(), present.end(), name) == present.end()) {
      diag_.Error(input->key_at, "bad-input",
                  "the input of adapter " + Quote(action->adapter) + " has no " + Quote(name) +
                      ", which it requires");
    }
  }
}

}  // namespace nurt::dsl::internal
