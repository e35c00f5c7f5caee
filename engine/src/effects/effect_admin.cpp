#include "nurt/effects/effect_admin.hpp"

#include "nurt/store/key_store.hpp"

namespace nurt::effects {

store::AuditRecord EffectAdmin::Audit(const std::string& org_id, const std::string& id, const std::string& action,
                                      const std::string& actor, const std::string& reason) const {
  store::AuditRecord a;
  a.org_id = org_id;
  a.id = ids_->NewId();
  a.occurred_at = clock_->Now();
  a.actor = actor;
  a.action = "effect." + action;
  a.target = id;
  a.reason = reason;
  return a;
}

Result<store::EffectRecord> EffectAdmin::Act(const std::string& org_id, const std::string& id,
                                             const std::string& action, const std::string& actor,
                                             const std::string& reason) {
  if (action == "skip" && reason.empty()) {
    return Status::InvalidArgument("skipping an effect needs a reason (it is kept in the dead letter and the audit log)");
  }
  NURT_ASSIGN_OR_RETURN(store::EffectRecord before, store_->GetEffect(org_id, id));
  const store::AuditRecord audit = Audit(org_id, id, action, actor, reason);
  NURT_RETURN_IF_ERROR(store_->AdminEffect(action, org_id, id, audit.occurred_at, audit));
  if (action == "delete") return before;
  return store_->GetEffect(org_id, id);
}

Result<std::vector<std::string>> EffectAdmin::RetryAll(const std::string& org_id, const std::string& adapter,
                                                       const std::string& instance_id, const std::string& actor,
                                                       const std::string& reason) {
  store::EffectFilter f;
  f.status = "dead";
  f.adapter = adapter;
  f.instance_id = instance_id;
  f.limit = 1000;
  NURT_ASSIGN_OR_RETURN(std::vector<store::EffectRecord> dead, store_->ListEffects(org_id, f));
  std::vector<std::string> retried;
  for (const auto& e : dead) {
    store::AuditRecord audit = Audit(org_id, e.item.id, "retry", actor, reason);
    audit.detail = Json{{"bulk", true}};
    const Status st = store_->AdminEffect("retry", org_id, e.item.id, audit.occurred_at, audit);
    if (st.ok()) {
      retried.push_back(e.item.id);
    } else if (!st.IsNotFound() && !st.IsFailedPrecondition()) {
      return st;  // the store is failing: stop, the rest stay dead
    }
  }
  return retried;
}

}  // namespace nurt::effects
