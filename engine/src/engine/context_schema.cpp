#include "engine/context_schema.hpp"

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace nurt::engine {

struct ContextSchema::Impl {
  valijson::Schema schema;
};

ContextSchema::ContextSchema(const Json& schema) : impl_(std::make_unique<Impl>()) {
  // valijson's adapter reads nlohmann::json (unordered); the schema is converted once per definition.
  const nlohmann::json plain = nlohmann::json::parse(schema.dump());
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
  valijson::adapters::NlohmannJsonAdapter adapter(plain);
  parser.populateSchema(adapter, impl_->schema);
}

ContextSchema::~ContextSchema() = default;

namespace {
// valijson reports a context like ["<root>", "[customer]", "[items]", "[2]"]; make it a JSON pointer.
std::string PointerOf(const std::vector<std::string>& context) {
  std::string out;
  for (const auto& part : context) {
    if (part == "<root>") continue;
    std::string token = part;
    if (token.size() >= 2 && token.front() == '[' && token.back() == ']') {
      token = token.substr(1, token.size() - 2);
    }
    if (token.size() >= 2 && token.front() == '"' && token.back() == '"') {
      token = token.substr(1, token.size() - 2);
    }
    out += "/" + token;
  }
  return out.empty() ? "/" : out;
}
}  // namespace

Status ContextSchema::Check(const Json& data, const std::string& what) const {
  const nlohmann::json plain = nlohmann::json::parse(data.dump());
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter adapter(plain);
  if (validator.validate(impl_->schema, adapter, &results)) return Status::Ok();
  std::string message = what + " does not satisfy the machine's context.schema:";
  valijson::ValidationResults::Error error;
  std::string last;
  int shown = 0;
  while (results.popError(error)) {
    std::string line = PointerOf(error.context) + ": " + error.description;
    if (line == last) continue;
    last = line;
    if (++shown > 10) {
      message += " (more violations not shown)";
      break;
    }
    message += (shown == 1 ? " " : "; ") + line;
  }
  return Status::InvalidArgument(message);
}

}  // namespace nurt::engine
