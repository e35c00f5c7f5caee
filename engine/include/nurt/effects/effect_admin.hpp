#pragma once
// nurt::effects::EffectAdmin — an operator's actions on adapter effects (docs/effects.md "Dead-letter
// queue"), shared by the HTTP API (/v1/effects) and the CLI (`nurt effects`). Each action is written
// with its audit_log record (action "effect.<verb>", target the effect id) in one transaction.
//
// Thread-safety: as the Store. Collaborators are not owned and must outlive it.

#include <string>
#include <vector>

#include "nurt/core/result.hpp"
#include "nurt/env/clock.hpp"
#include "nurt/env/id_generator.hpp"
#include "nurt/store/store.hpp"

namespace nurt::effects {

class EffectAdmin {
 public:
  EffectAdmin(store::Store* store, const env::Clock* clock, env::IdGenerator* ids)
      : store_(store), clock_(clock), ids_(ids) {}

  // `action`: retry | skip | delete (Store::AdminEffect). Returns the effect as it is afterwards (for
  // delete: as it was). Errors: NotFound, FailedPrecondition (its status does not allow the action),
  // InvalidArgument (unknown action; skip without a reason).
  Result<store::EffectRecord> Act(const std::string& org_id, const std::string& id, const std::string& action,
                                  const std::string& actor, const std::string& reason);

  // Retries every dead letter of the org (up to 1000) of `adapter` and `instance_id` ("" = any), each
  // audited with detail {"bulk": true}. One that changed meanwhile is left out. Returns the ids retried.
  Result<std::vector<std::string>> RetryAll(const std::string& org_id, const std::string& adapter,
                                            const std::string& instance_id, const std::string& actor,
                                            const std::string& reason);

 private:
  store::AuditRecord Audit(const std::string& org_id, const std::string& id, const std::string& action,
                           const std::string& actor, const std::string& reason) const;

  store::Store* store_;
  const env::Clock* clock_;
  env::IdGenerator* ids_;
};

}  // namespace nurt::effects
