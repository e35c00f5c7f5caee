#include <string>
#include <vector>

#include "nurt/effects/adapter.hpp"

namespace nurt::effects {

Status AdapterRegistry::Register(std::shared_ptr<Adapter> adapter) {
  const std::string name = adapter->Name();
  if (adapters_.count(name)) {
    return Status::AlreadyExists("adapter '" + name + "' is registered twice; each adapter name must be unique");
  }
  adapters_[name] = std::move(adapter);
  return Status::Ok();
}

Adapter* AdapterRegistry::Find(const std::string& name) const {
  auto it = adapters_.find(name);
  return it == adapters_.end() ? nullptr : it->second.get();
}

std::vector<std::string> AdapterRegistry::Names() const {
  std::vector<std::string> out;
  for (const auto& [name, a] : adapters_) out.push_back(name);
  return out;
}

dsl::AdapterCatalog AdapterRegistry::Catalog() const {
  dsl::AdapterCatalog out;
  for (const auto& [name, a] : adapters_) out[name] = a->InputSchema();
  return out;
}

}  // namespace nurt::effects
