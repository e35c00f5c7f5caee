// Every machine in examples/ and workflows/, published together into one engine on a real SQLite store,
// each driven through the scenario its header comment describes: resulting states, instance data, run
// status, output and the transitions taken. Each test ends by replaying the event log of every instance
// it touched and comparing with the stored snapshot, after every event and at the end.
//
// The files are loaded the way `nurt` loads them (default LoadOptions: `script:` paths resolve to the
// repository's actions/, also from examples/features/ and workflows/installation/).

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine_harness.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/env/file_system.hpp"
#include "nurt/store/store.hpp"

namespace nurt {
namespace {

using engine::Outcome;

constexpr const char* kOrg = "fotowolt-sp-z-oo";
const std::string kRoot = NURT_SOURCE_ROOT;

std::vector<std::string> MachineFiles() {
  std::vector<std::string> files;
  for (const char* dir : {"/examples", "/workflows"}) {
    auto listed = env::LocalFileSystem()->ListFiles(kRoot + dir, {".yaml", ".yml"});
    EXPECT_TRUE(listed.ok()) << listed.status();
    if (!listed.ok()) continue;
    for (const auto& file : *listed) {
      // Rules, schedules, channels and scenarios live next to the machines; only machines load here.
      auto text = env::LocalFileSystem()->ReadFile(file);
      if (text.ok() && text->find("\nkind: Machine") != std::string::npos) files.push_back(file);
    }
  }
  return files;
}

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

// "event: source -> target" per transition; "(always)" for eventless, "(targetless)" for no target.
std::vector<std::string> Steps(const Outcome& o) {
  std::vector<std::string> out;
  for (const auto& t : o.transitions) {
    out.push_back((t.event.empty() ? "(always)" : t.event) + ": " + t.source + " -> " +
                  (t.targets.empty() ? "(targetless)" : Join(t.targets, "+")));
  }
  return out;
}

using Strings = std::vector<std::string>;

class ExamplesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(harness_.Open());
    for (const auto& file : MachineFiles()) {
      const dsl::LoadResult r = dsl::LoadMachineFile(file);
      ASSERT_NE(r.definition, nullptr) << file << " does not load";
      ASSERT_TRUE(engine_->Publish(kOrg, *r.definition).ok()) << file;
    }
  }

  // Starts an instance; a failure is a test failure and returns an empty Outcome.
  Outcome Start(const std::string& machine, Json data, const std::string& id = "") {
    auto r = TryStart(machine, std::move(data), id);
    EXPECT_TRUE(r.ok()) << "starting " << machine << ": " << r.status();
    return r.ok() ? std::move(r).value() : Outcome{};
  }
  Result<Outcome> TryStart(const std::string& machine, Json data, const std::string& id = "") {
    engine::StartRequest req;
    req.org_id = kOrg;
    req.machine = machine;
    req.data = std::move(data);
    req.instance_id = id;
    req.actor = "user:marta";
    auto r = engine_->Start(req);
    if (r.ok()) Remember(r->instance_id, r->event_sequence);
    return r;
  }

  // Sends an event that must be accepted.
  Outcome Send(const std::string& id, const std::string& event, Json data = Json::object(),
               const std::string& actor = "user:marta") {
    auto r = TrySend(id, event, std::move(data), actor);
    EXPECT_TRUE(r.ok()) << id << " <- " << event << ": " << r.status();
    return r.ok() ? std::move(r).value() : Outcome{};
  }
  Result<Outcome> TrySend(const std::string& id, const std::string& event, Json data = Json::object(),
                          const std::string& actor = "user:marta") {
    engine::EventRequest req;
    req.org_id = kOrg;
    req.instance_id = id;
    req.event = event;
    req.data = std::move(data);
    req.actor = actor;
    auto r = engine_->Accept(req);
    if (r.ok()) Remember(id, r->event_sequence);
    return r;
  }

  // Runs spawns and sends until none is left; returns how many ran.
  int DeliverAll() {
    int total = 0;
    for (int round = 0; round < 20; ++round) {
      auto n = engine_->DeliverInternalEffects();
      EXPECT_TRUE(n.ok()) << n.status();
      if (!n.ok() || *n == 0) break;
      total += *n;
    }
    return total;
  }

  engine::InstanceView Show(const std::string& id) {
    auto v = engine_->Show(kOrg, id);
    EXPECT_TRUE(v.ok()) << id << ": " << v.status();
    return v.ok() ? std::move(v).value() : engine::InstanceView{};
  }

  std::int64_t Version(const std::string& id) { return Show(id).record.version; }

  // For every instance in the org: replaying its whole log gives the stored snapshot, and replaying up
  // to each event this test saw accepted gives the snapshot stored right after that event.
  void ExpectReplayEqualsSnapshots() {
    auto all = store_->ListInstances(kOrg, {});
    ASSERT_TRUE(all.ok()) << all.status();
    ASSERT_FALSE(all->empty());
    for (const auto& rec : *all) {
      auto replayed = engine_->Replay(kOrg, rec.id);
      ASSERT_TRUE(replayed.ok()) << rec.id << ": " << replayed.status();
      EXPECT_EQ(*replayed, Show(rec.id).record.snapshot) << "replay of " << rec.id;
      for (const auto& [sequence, snapshot] : snapshots_[rec.id]) {
        auto prefix = engine_->Replay(kOrg, rec.id, sequence);
        ASSERT_TRUE(prefix.ok()) << rec.id << " until " << sequence << ": " << prefix.status();
        EXPECT_EQ(*prefix, snapshot) << "replay of " << rec.id << " until event " << sequence;
      }
    }
  }

  // The advance or final invoice of a project, taken through accounting, KSeF, mailing and the bank.
  void PayInvoice(const std::string& id, const std::string& number, std::int64_t amount) {
    Send(id, "issue", Json{{"number", number}}, "user:ksiegowa");
    Send(id, "ksef.accepted", Json{{"ksef_number", "5260001234-20260105-" + number}}, "adapter:ksef");
    Send(id, "invoice.sent", Json{{"to", "anna.nowak@example.pl"}});
    Send(id, "payment.received", Json{{"amount_grosze", amount}, {"reference", number}}, "adapter:bank");
  }
  testing::EngineHarness harness_;
  testing::TempDir& dir_ = harness_.dir;
  testing::ManualClock& clock_ = harness_.clock;  // 2026-01-01T00:00:00Z
  std::unique_ptr<store::Store>& store_ = harness_.store;
  std::unique_ptr<engine::Engine>& engine_ = harness_.engine;

 private:
  void Remember(const std::string& id, std::int64_t sequence) {
    auto v = engine_->Show(kOrg, id);
    if (v.ok()) snapshots_[id][sequence] = v->record.snapshot;
  }
  std::map<std::string, std::map<std::int64_t, Json>> snapshots_;
};

// --- the files themselves ----------------------------------------------------------------------------

TEST_F(ExamplesTest, EveryFileLoadsWithoutDiagnosticsAndMachineNamesAreUnique) {
  std::map<std::string, std::string> names;
  for (const auto& file : MachineFiles()) {
    const dsl::LoadResult r = dsl::LoadMachineFile(file);
    for (const auto& d : r.diagnostics) ADD_FAILURE() << d.ToString();
    ASSERT_NE(r.definition, nullptr) << file;
    auto [it, inserted] = names.emplace(r.definition->name, file);
    EXPECT_TRUE(inserted) << "machine '" << r.definition->name << "' is defined in " << it->second
                          << " and " << file << " (the CLI loads workflows/ and examples/ together)";
  }
  std::set<std::string> got;
  for (const auto& [name, file] : names) got.insert(name);
  const std::set<std::string> expected = {
      "lead", "invoice", "installation.project", "feature.document_order",
      "feature.exit_entry_order", "feature.parallel", "feature.final_done", "feature.eventless",
      "feature.internal_events", "feature.spawn_and_send", "feature.spawn_child",
      "feature.error_handling", "feature.context_schema", "followup"};
  EXPECT_EQ(got, expected);
}

// --- examples/lead.yaml ------------------------------------------------------------------------------

Json AnnaNowak() {
  return Json{{"source", "architect"},
              {"architect", "Pracownia Lipa"},
              {"contact", {{"name", "Anna Nowak"}, {"phone", "+48 601 200 300"}}}};
}

Json GoodQualification() {
  return Json{{"budget_grosze", 4500000}, {"roof_area_m2", 48}, {"region", "dolnoslaskie"},
              {"annual_usage_kwh", 5200}};
}

TEST_F(ExamplesTest, LeadIsQualifiedScoredWonAndStartsTheInstallationProject) {
  Outcome o = Start("lead", AnnaNowak(), "lead-1");
  EXPECT_EQ(o.state, Strings({"new"}));
  EXPECT_EQ(o.run_status, "active");
  EXPECT_EQ(o.accepted_events, Strings({"drop", "note", "qualify"}));

  o = Send("lead-1", "note", Json{{"text", "met at the architect's office"}});
  EXPECT_EQ(o.state, Strings({"new"}));
  EXPECT_EQ(o.context["notes"], Json::array({"user:marta: met at the architect's office"}));
  EXPECT_EQ(Steps(o), Strings({"note: open -> (targetless)"}));

  o = Send("lead-1", "qualify", GoodQualification(), "user:piotr");
  EXPECT_EQ(o.state, Strings({"qualified"}));
  EXPECT_EQ(Steps(o), Strings({"qualify: new -> qualified"}));
  // 12 (budget 25 000 zł over the minimum) + 24 (48 m²) + 20 (architect) + 10 (known usage).
  EXPECT_EQ(o.context["score"], 66);
  EXPECT_TRUE(o.context["score"].is_number_integer());
  EXPECT_EQ(o.context["priority"], "hot");
  EXPECT_EQ(o.context["qualified_by"], "user:piotr");
  EXPECT_EQ(o.context["qualified_at"], "2026-01-01T00:00:00.000Z");
  ASSERT_EQ(o.transitions.size(), 1u);
  EXPECT_EQ(o.transitions[0].detail["log"], Json::array({"lead score 66 (hot)"}));

  o = Send("lead-1", "win",
           Json{{"offer_number", "OF/2026/017"},
                {"address", "ul. Polna 3, 55-080 Kąty Wrocławskie"},
                {"building", {{"kind", "residential"}, {"usable_area_m2", 160}}}});
  EXPECT_EQ(o.run_status, "completed");
  EXPECT_EQ(o.state, Strings({"won"}));
  EXPECT_EQ(o.output, (Json{{"result", "won"}, {"project_id", "project-lead-1"}, {"score", 66}}));
  EXPECT_TRUE(o.accepted_events.empty());

  // The project does not exist until the spawn is delivered, after the commit.
  EXPECT_TRUE(engine_->Show(kOrg, "project-lead-1").status().IsNotFound());
  EXPECT_EQ(DeliverAll(), 1);
  const auto project = Show("project-lead-1");
  EXPECT_EQ(project.record.machine, "installation.project");
  EXPECT_EQ(project.record.state, Strings({"choosing_panels"}));
  const Json& ctx = project.record.snapshot["context"];
  EXPECT_EQ(ctx["lead_id"], "lead-1");
  EXPECT_EQ(ctx["customer"]["name"], "Anna Nowak");
  EXPECT_EQ(ctx["region"], "dolnoslaskie");
  EXPECT_EQ(ctx["roof_area_m2"], 48);
  EXPECT_EQ(ctx["building"]["kind"], "residential");
  EXPECT_EQ(ctx["selection_link"], "https://app.nurt.example/wybor-paneli/project-lead-1");
  auto events = store_->ListEvents(kOrg, "project-lead-1");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->front().actor, "instance:lead-1");

  // A completed lead takes nothing more.
  auto late = TrySend("lead-1", "note", Json{{"text", "too late"}});
  EXPECT_TRUE(late.status().IsFailedPrecondition()) << late.status();
  EXPECT_NE(late.status().message().find("completed"), std::string::npos) << late.status();
  ExpectReplayEqualsSnapshots();
}

TEST_F(ExamplesTest, LeadOutsideTheServiceAreaOrBelowTheMinimumIsLostWithTheReason) {
  Start("lead", AnnaNowak(), "far");
  Json far = GoodQualification();
  far["region"] = "podlaskie";
  Outcome o = Send("far", "qualify", far);
  EXPECT_EQ(o.run_status, "completed");
  EXPECT_EQ(o.state, Strings({"lost"}));
  EXPECT_EQ(o.output, (Json{{"result", "lost"}, {"reason", "region podlaskie is not served"}}));

  Start("lead", AnnaNowak(), "small");
  Json small = GoodQualification();
  small["budget_grosze"] = 1500000;
  o = Send("small", "qualify", small);
  EXPECT_EQ(o.output, (Json{{"result", "lost"}, {"reason", "budget or roof area below our minimum"}}));

  Start("lead", AnnaNowak(), "gone");
  o = Send("gone", "drop", Json{{"reason", "architect's client moved abroad"}});
  EXPECT_EQ(Steps(o), Strings({"drop: open -> lost"}));
  EXPECT_EQ(o.output["reason"], "architect's client moved abroad");
  ExpectReplayEqualsSnapshots();
}

TEST_F(ExamplesTest, LeadIsQualifiedByTheCoordinatorThroughItsTask) {
  Start("lead", AnnaNowak(), "lead-t");
  store::TaskFilter inbox;
  inbox.status = "open";
  inbox.assignee_role = "coordinator";
  auto tasks = engine_->ListTasks(kOrg, inbox);
  ASSERT_TRUE(tasks.ok()) << tasks.status();
  ASSERT_EQ(tasks->size(), 1u);
  const store::TaskRecord task = tasks->front();
  EXPECT_EQ(task.title, "Qualify the lead");
  EXPECT_EQ(task.state, "new");
  EXPECT_EQ(task.due_at, clock_.Now() + std::chrono::hours(48));

  ASSERT_TRUE(engine_->ClaimTask(kOrg, task.id, "user:piotr").ok());
  engine::CompleteTaskRequest req;
  req.org_id = kOrg;
  req.task_id = task.id;
  req.decision = "qualify";
  req.data = Json{{"budget_grosze", "45 000 zł"}, {"roof_area_m2", 48}};
  req.actor = "user:piotr";
  auto bad = engine_->CompleteTask(req);
  ASSERT_TRUE(bad.status().IsInvalidArgument()) << bad.status();
  EXPECT_EQ(bad.status().message(),
            "/data/budget_grosze: expected a whole number, got \"45 000 zł\"\n"
            "/data/region: required field 'Voivodeship' is missing");

  req.data = GoodQualification();
  req.checklist_done = {"Called the prospect"};
  auto done = engine_->CompleteTask(req);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state, Strings({"qualified"}));
  EXPECT_EQ(done->context["qualified_by"], "user:piotr");
  EXPECT_EQ(done->context["score"], 66);
  auto closed = engine_->GetTask(kOrg, task.id);
  EXPECT_EQ(closed->status, "completed");
  EXPECT_EQ(closed->decision, "qualify");
  EXPECT_TRUE(engine_->ListTasks(kOrg, inbox)->empty());

  // Dropping a lead also ends its qualification task (the `drop` decision is handled by `open`).
  Start("lead", AnnaNowak(), "lead-u");
  ASSERT_TRUE(Send("lead-u", "drop", Json{{"reason", "no roof"}}).run_status == "completed");
  store::TaskFilter of_u;
  of_u.instance_id = "lead-u";
  auto ended = engine_->ListTasks(kOrg, of_u);
  ASSERT_EQ(ended->size(), 1u);
  EXPECT_EQ(ended->front().status, "closed");
  EXPECT_EQ(ended->front().close_reason, "state new left on event drop");
  ExpectReplayEqualsSnapshots();
}

TEST_F(ExamplesTest, LeadRefusesEventsItDoesNotAcceptAndDataItCannotQualify) {
  Start("lead", AnnaNowak(), "lead-2");

  auto early = TrySend("lead-2", "win", Json{{"offer_number", "OF/1"}});
  ASSERT_TRUE(early.status().IsFailedPrecondition()) << early.status();
  EXPECT_NE(early.status().message().find(
                "event 'win' is not accepted in state new; it accepts: drop, note, qualify"),
            std::string::npos)
      << early.status();

  Json null_region = GoodQualification();
  null_region["region"] = nullptr;
  Json budget_in_zloty = GoodQualification();
  budget_in_zloty["budget_grosze"] = 45000.5;
  for (const Json& data : {Json{{"budget_grosze", 4500000}}, null_region, budget_in_zloty}) {
    auto vague = TrySend("lead-2", "qualify", data);
    ASSERT_TRUE(vague.status().IsInvalidArgument()) << data << ": " << vague.status();
    EXPECT_NE(vague.status().message().find("qualify needs budget_grosze"), std::string::npos)
        << vague.status();
    EXPECT_NE(vague.status().message().find("lead.yaml:"), std::string::npos) << vague.status();
  }

  // Nothing was written by either refusal.
  EXPECT_EQ(Version("lead-2"), 1);
  EXPECT_EQ(Show("lead-2").record.state, Strings({"new"}));

  // The context schema: a lead needs a contact reachable by phone or e-mail.
  auto anonymous = TryStart("lead", Json{{"source", "web"}, {"contact", {{"name", "Jan"}}}});
  EXPECT_TRUE(anonymous.status().IsInvalidArgument()) << anonymous.status();
  auto no_contact = TryStart("lead", Json{{"source", "web"}});
  ASSERT_TRUE(no_contact.status().IsInvalidArgument()) << no_contact.status();
  EXPECT_NE(no_contact.status().message().find("contact"), std::string::npos) << no_contact.status();
  ExpectReplayEqualsSnapshots();
}

// --- examples/invoice.yaml ---------------------------------------------------------------------------

Json KowalskiInvoice() {
  return Json{{"kind", "regular"},
              {"buyer", {{"name", "Kowalski Sp. z o.o."}, {"nip", "8971234567"}}},
              {"net_grosze", 1000000},
              {"vat_rate", 23}};
}

TEST_F(ExamplesTest, InvoiceIsPaidInPartsChasedWhenOverdueAndSettledOnceKsefAccepts) {
  Outcome o = Start("invoice", KowalskiInvoice(), "fv42");
  EXPECT_EQ(o.state, Strings({"draft"}));
  EXPECT_EQ(o.accepted_events, Strings({"cancel", "issue"}));

  o = Send("fv42", "issue", Json{{"number", "FV/2026/01/0042"}}, "user:ksiegowa");
  // Parallel: the KSeF region and the payment region, in document order.
  EXPECT_EQ(o.state, Strings({"ksef_pending", "unsent"}));
  EXPECT_EQ(o.context["vat_grosze"], 230000);
  EXPECT_EQ(o.context["gross_grosze"], 1230000);
  EXPECT_EQ(o.context["outstanding_grosze"], 1230000);
  EXPECT_EQ(o.context["due_date"], "2026-01-15");
  EXPECT_EQ(o.accepted_events, Strings({"cancel", "invoice.overdue", "invoice.sent", "ksef.accepted",
                                        "ksef.rejected", "payment.received"}));

  o = Send("fv42", "invoice.sent", Json{{"to", "ksiegowosc@kowalski.pl"}});
  EXPECT_EQ(o.state, Strings({"ksef_pending", "sent"}));

  o = Send("fv42", "payment.received", Json{{"amount_grosze", 500000}, {"reference", "cz. 1"}});
  EXPECT_EQ(o.state, Strings({"ksef_pending", "paid_partial"}));
  EXPECT_EQ(Steps(o), Strings({"payment.received: outstanding -> (targetless)",
                               "(always): sent -> paid_partial"}));
  EXPECT_EQ(o.context["paid_grosze"], 500000);
  EXPECT_EQ(o.context["outstanding_grosze"], 730000);

  clock_.Advance(std::chrono::hours(24 * 15));
  o = Send("fv42", "invoice.overdue", Json::object(), "system:dunning");
  EXPECT_EQ(o.state, Strings({"ksef_pending", "overdue"}));
  EXPECT_EQ(o.context["dunning_level"], 1);
  ASSERT_EQ(o.transitions.size(), 1u);
  EXPECT_EQ(o.transitions[0].detail["internal"], true);

  // A part paid late leaves the invoice overdue; the next reminder raises the dunning level.
  o = Send("fv42", "payment.received", Json{{"amount_grosze", 300000}});
  EXPECT_EQ(o.state, Strings({"ksef_pending", "overdue"}));
  EXPECT_EQ(o.context["outstanding_grosze"], 430000);
  o = Send("fv42", "invoice.overdue", Json::object(), "system:dunning");
  EXPECT_EQ(o.context["dunning_level"], 2);

  o = Send("fv42", "payment.received", Json{{"amount_grosze", 430000}});
  EXPECT_EQ(o.state, Strings({"ksef_pending", "paid"}));
  EXPECT_EQ(o.run_status, "active");  // paid, but KSeF has not accepted it yet
  EXPECT_EQ(o.context["paid_grosze"], 1230000);
  EXPECT_EQ(o.context["outstanding_grosze"], 0);
  EXPECT_EQ(o.context["payments"].size(), 3u);
  EXPECT_EQ(o.context["paid_at"], "2026-01-16T00:00:00.000Z");
  EXPECT_EQ(Steps(o), Strings({"payment.received: outstanding -> paid",
                               "done.state.payment: issued -> (targetless)"}));
  EXPECT_EQ(DeliverAll(), 0);  // no parent_id: nobody to tell

  o = Send("fv42", "ksef.accepted", Json{{"ksef_number", "8971234567-20260116-0100A1B2C3D4-E5"}},
           "adapter:ksef");
  EXPECT_EQ(o.run_status, "completed");
  EXPECT_EQ(o.state, Strings({"settled"}));
  EXPECT_EQ(Steps(o), Strings({"ksef.accepted: ksef_pending -> ksef_accepted",
                               "done.state.issued: issued -> settled"}));
  EXPECT_EQ(o.output, (Json{{"number", "FV/2026/01/0042"},
                            {"gross_grosze", 1230000},
                            {"paid_grosze", 1230000},
                            {"ksef_number", "8971234567-20260116-0100A1B2C3D4-E5"}}));
  ExpectReplayEqualsSnapshots();
}

TEST_F(ExamplesTest, InvoiceIsCancelledOnlyUnpaidAndAfterKsefOnlyWithACorrectingInvoice) {
  Start("invoice", KowalskiInvoice(), "draft-only");
  Outcome o = Send("draft-only", "cancel");
  EXPECT_EQ(o.output, (Json{{"number", nullptr}, {"reason", "draft discarded"}}));

  Start("invoice", KowalskiInvoice(), "fv43");
  Send("fv43", "issue", Json{{"number", "FV/2026/01/0043"}});
  Send("fv43", "ksef.accepted", Json{{"ksef_number", "K-43"}});
  auto plain = TrySend("fv43", "cancel", Json{{"reason", "wrong buyer"}});
  ASSERT_TRUE(plain.status().IsFailedPrecondition()) << plain.status();
  EXPECT_NE(plain.status().message().find("no guard of its transitions holds"), std::string::npos)
      << plain.status();
  o = Send("fv43", "cancel", Json{{"reason", "wrong buyer"}, {"correction_number", "FK/2026/01/0001"}});
  EXPECT_EQ(o.run_status, "completed");
  EXPECT_EQ(o.state, Strings({"cancelled"}));
  EXPECT_EQ(o.context["correction_number"], "FK/2026/01/0001");
  EXPECT_EQ(o.output, (Json{{"number", "FV/2026/01/0043"}, {"reason", "wrong buyer"}}));

  Start("invoice", KowalskiInvoice(), "fv44");
  Send("fv44", "issue", Json{{"number", "FV/2026/01/0044"}});
  Send("fv44", "payment.received", Json{{"amount_grosze", 1000}});
  EXPECT_TRUE(TrySend("fv44", "cancel").status().IsFailedPrecondition());
  EXPECT_EQ(Show("fv44").record.state, Strings({"ksef_pending", "unsent"}));
  ExpectReplayEqualsSnapshots();
}

TEST_F(ExamplesTest, InvoiceRefusesPaymentsThatAreNotWholeGroszeAndIssueWithoutNumber) {
  Start("invoice", KowalskiInvoice(), "fv45");
  auto unnumbered = TrySend("fv45", "issue");
  ASSERT_TRUE(unnumbered.status().IsInvalidArgument()) << unnumbered.status();
  EXPECT_NE(unnumbered.status().message().find("issue needs data.number"), std::string::npos);

  Send("fv45", "issue", Json{{"number", "FV/2026/01/0045"}});
  for (const Json& amount : {Json("500"), Json(12.5), Json(0), Json(nullptr)}) {
    auto bad = TrySend("fv45", "payment.received", Json{{"amount_grosze", amount}});
    ASSERT_TRUE(bad.status().IsInvalidArgument()) << amount << ": " << bad.status();
    EXPECT_NE(bad.status().message().find("payment.received needs amount_grosze"), std::string::npos)
        << bad.status();
    EXPECT_NE(bad.status().message().find("record_payment.lua:"), std::string::npos) << bad.status();
  }
  EXPECT_EQ(Version("fv45"), 2);
  EXPECT_EQ(Show("fv45").record.snapshot["context"]["paid_grosze"], 0);

  auto bad_rate = TryStart("invoice", Json{{"kind", "regular"},
                                           {"buyer", {{"name", "X"}}},
                                           {"net_grosze", 100},
                                           {"vat_rate", 7}});
  ASSERT_TRUE(bad_rate.status().IsInvalidArgument()) << bad_rate.status();
  EXPECT_NE(bad_rate.status().message().find("/vat_rate"), std::string::npos) << bad_rate.status();
  ExpectReplayEqualsSnapshots();
}

// --- workflows/installation/project.yaml ---------------------------------------------------------------

Json ProjectData() {
  return Json{{"lead_id", "lead-7"},
              {"offer_number", "OF/2026/017"},
              {"customer", {{"name", "Anna Nowak"}, {"phone", "+48 601 200 300"}}},
              {"address", "ul. Polna 3, 55-080 Kąty Wrocławskie"},
              {"building", {{"kind", "residential"}, {"usable_area_m2", 160}}},
              {"region", "dolnoslaskie"},
              {"roof_area_m2", 48}};
}

Json Panels(int count, int power_w, std::int64_t price_net_grosze, const std::string& model) {
  return Json{{"panel_model", model},
              {"panel_power_w", power_w},
              {"panel_count", count},
              {"inverter_model", "Huawei SUN2000-6KTL"},
              {"price_net_grosze", price_net_grosze}};
}

class ProjectTest : public ExamplesTest {
 protected:
  // Starts project `prj-1`, lets the customer choose 14 x 415 W for 28 000 zł net and pays the advance
  // invoice (8 400 zł net + 8 % VAT = 9 072 zł), which moves the project to `ordering`.
  void StartAndPayAdvance() {
    Start("installation.project", ProjectData(), "prj-1");
    Outcome o = Send("prj-1", "panels.chosen", Panels(14, 415, 2800000, "JA Solar JAM54S30 415 W"),
                     "customer:anna");
    EXPECT_EQ(o.state, Strings({"awaiting_advance"}));
    EXPECT_EQ(o.context["system_power_w"], 5810);
    EXPECT_EQ(o.context["vat_rate"], 8);
    EXPECT_EQ(o.context["advance_net_grosze"], 840000);
    EXPECT_EQ(o.context["final_net_grosze"], 1960000);
    ASSERT_FALSE(o.transitions.empty());
    EXPECT_EQ(o.transitions.back().detail["log"],
              Json::array({"14 x 415 W = 5810 W, net 2800000 gr, VAT 8 %, advance net 840000 gr"}));

    EXPECT_EQ(DeliverAll(), 1);
    const auto advance = Show("prj-1-advance");
    EXPECT_EQ(advance.record.machine, "invoice");
    EXPECT_EQ(advance.record.state, Strings({"draft"}));
    const Json& ctx = advance.record.snapshot["context"];
    EXPECT_EQ(ctx["kind"], "advance");
    EXPECT_EQ(ctx["net_grosze"], 840000);
    EXPECT_EQ(ctx["vat_rate"], 8);
    EXPECT_EQ(ctx["buyer"], (Json{{"name", "Anna Nowak"}}));
    EXPECT_EQ(ctx["parent_id"], "prj-1");

    PayInvoice("prj-1-advance", "FZ/2026/01/0007", 907200);
    EXPECT_EQ(Show("prj-1").record.state, Strings({"awaiting_advance"}));  // not delivered yet
    EXPECT_EQ(DeliverAll(), 1);
    const auto project = Show("prj-1");
    EXPECT_EQ(project.record.state, Strings({"ordering"}));
    EXPECT_EQ(project.record.snapshot["context"]["advance_paid_grosze"], 907200);
    EXPECT_EQ(project.record.snapshot["context"]["advance_invoice_number"], "FZ/2026/01/0007");
  }
};

TEST_F(ProjectTest, PanelChoiceThatDoesNotFitTheRoofIsRefusedWithTheReason) {
  Start("installation.project", ProjectData(), "prj-1");
  auto too_big = TrySend("prj-1", "panels.chosen", Panels(30, 415, 5000000, "JA Solar 415 W"));
  ASSERT_TRUE(too_big.status().IsInvalidArgument()) << too_big.status();
  EXPECT_NE(too_big.status().message().find("30 panels need about 60 m² of roof, this roof has 48 m²"),
            std::string::npos)
      << too_big.status();
  EXPECT_EQ(Version("prj-1"), 1);
  EXPECT_EQ(Show("prj-1").record.state, Strings({"choosing_panels"}));
  EXPECT_EQ(DeliverAll(), 0);  // no advance invoice either
  ExpectReplayEqualsSnapshots();
}

TEST_F(ProjectTest, InstallationRunsFromPanelChoiceToGridConnectionAndFinalPayment) {
  StartAndPayAdvance();
  EXPECT_EQ(Show("prj-1-advance").record.state, Strings({"settled"}));

  Outcome o = Send("prj-1", "order.confirmed",
           Json{{"order_number", "ZAM/2026/0113"}, {"delivery_date", "2026-02-10"}}, "adapter:edifact");
  EXPECT_EQ(o.state, Strings({"in_transit", "crew_unplanned"}));

  // The crew comes after the delivery, never before.
  auto before = TrySend("prj-1", "installation.planned", Json{{"date", "2026-02-05"}});
  ASSERT_TRUE(before.status().IsInvalidArgument()) << before.status();
  EXPECT_NE(before.status().message().find(
                "installation must be planned after the delivery on 2026-02-10 (got 2026-02-05)"),
            std::string::npos)
      << before.status();
  o = Send("prj-1", "installation.planned", Json{{"date", "2026-02-12"}, {"crew", "Ekipa Wrocław 2"}});
  EXPECT_EQ(o.state, Strings({"in_transit", "crew_planned"}));
  EXPECT_EQ(o.context["installation_date"], "2026-02-12");

  // The wholesaler moves the delivery past the booked installation: the crew must be booked again.
  o = Send("prj-1", "delivery.rescheduled", Json{{"delivery_date", "2026-02-13"}}, "adapter:edifact");
  EXPECT_EQ(o.state, Strings({"in_transit", "crew_unplanned"}));
  EXPECT_EQ(Steps(o), Strings({"delivery.rescheduled: preparing -> in_transit+crew_unplanned"}));
  EXPECT_EQ(o.context["delivery_date"], "2026-02-13");
  EXPECT_FALSE(o.context.contains("installation_date"));
  EXPECT_EQ(o.context["notes"],
            Json::array({"delivery moved to 2026-02-13: installation on 2026-02-12 must be re-booked"}));
  // A move that keeps the delivery before the installation only records the date.
  o = Send("prj-1", "installation.planned", Json{{"date", "2026-02-16"}});
  o = Send("prj-1", "delivery.rescheduled", Json{{"delivery_date", "2026-02-14"}});
  EXPECT_EQ(o.state, Strings({"in_transit", "crew_planned"}));
  EXPECT_EQ(o.context["delivery_date"], "2026-02-14");
  EXPECT_EQ(o.context["installation_date"], "2026-02-16");

  o = Send("prj-1", "delivery.received", Json{{"delivery_note", "WZ 2026/02/331"}});
  EXPECT_EQ(o.state, Strings({"installing"}));
  EXPECT_EQ(Steps(o), Strings({"delivery.received: in_transit -> on_site",
                               "done.state.preparing: preparing -> installing"}));

  o = Send("prj-1", "installation.completed",
           Json{{"protocol_number", "PO/2026/031"}, {"installed_power_w", 5810}}, "user:brygadzista");
  EXPECT_EQ(o.state, Strings({"final_invoice_open", "grid_notification"}));
  EXPECT_EQ(DeliverAll(), 1);
  const auto final_invoice = Show("prj-1-final");
  EXPECT_EQ(final_invoice.record.snapshot["context"]["kind"], "final");
  EXPECT_EQ(final_invoice.record.snapshot["context"]["net_grosze"], 1960000);

  o = Send("prj-1", "grid.connected", Json{{"meter_number", "TAURON-98765"}}, "adapter:osd");
  EXPECT_EQ(o.state, Strings({"final_invoice_open", "grid_connected"}));

  // 19 600 zł net + 8 % VAT = 21 168 zł.
  PayInvoice("prj-1-final", "FV/2026/02/0019", 2116800);
  EXPECT_EQ(DeliverAll(), 1);
  const auto done = Show("prj-1");
  EXPECT_EQ(done.record.run_status, "completed");
  EXPECT_EQ(done.record.state, Strings({"completed"}));
  EXPECT_EQ(done.record.snapshot["output"],
            (Json{{"lead_id", "lead-7"},
                  {"system_power_w", 5810},
                  {"price_net_grosze", 2800000},
                  {"paid_grosze", 907200 + 2116800},
                  {"invoices", Json::array({"prj-1-advance", "prj-1-final"})},
                  {"meter_number", "TAURON-98765"}}));
  EXPECT_EQ(Show("prj-1-final").record.state, Strings({"settled"}));
  ExpectReplayEqualsSnapshots();
}

TEST_F(ProjectTest, AdvanceInvoiceIsSpawnedOnceAndPaidBeforeTheOrder) {
  StartAndPayAdvance();
  auto invoices = store_->ListInstances(kOrg, store::InstanceFilter{"invoice", "", "", "", 100});
  ASSERT_TRUE(invoices.ok());
  EXPECT_EQ(invoices->size(), 1u);
  EXPECT_EQ(DeliverAll(), 0);
  ExpectReplayEqualsSnapshots();
}

TEST_F(ProjectTest, PanelsTheWholesalerCannotDeliverAreChosenAgainAndOnlyTheFinalInvoiceChanges) {
  StartAndPayAdvance();
  Outcome o = Send("prj-1", "order.rejected", Json{{"reason", "model discontinued"}}, "adapter:edifact");
  EXPECT_EQ(o.state, Strings({"reselecting"}));
  EXPECT_EQ(o.context["notes"],
            Json::array({"wholesaler cannot deliver JA Solar JAM54S30 415 W: model discontinued"}));

  o = Send("prj-1", "panels.chosen", Panels(14, 430, 2900000, "Longi Hi-MO 6 430 W"), "customer:anna");
  EXPECT_EQ(o.state, Strings({"ordering"}));
  EXPECT_EQ(o.context["system_power_w"], 6020);
  EXPECT_EQ(o.context["advance_net_grosze"], 840000);  // already invoiced and paid
  EXPECT_EQ(o.context["final_net_grosze"], 2060000);
  EXPECT_EQ(DeliverAll(), 0);  // no second advance invoice
  ExpectReplayEqualsSnapshots();
}

TEST_F(ProjectTest, ProjectCanBeCancelledOnlyBeforeTheAdvanceIsInvoiced) {
  Start("installation.project", ProjectData(), "prj-2");
  Outcome o = Send("prj-2", "cancel", Json{{"reason", "customer chose a heat pump instead"}});
  EXPECT_EQ(o.run_status, "completed");
  EXPECT_EQ(o.output, (Json{{"reason", "customer chose a heat pump instead"}}));

  StartAndPayAdvance();
  auto late = TrySend("prj-1", "cancel");
  ASSERT_TRUE(late.status().IsFailedPrecondition()) << late.status();
  EXPECT_NE(late.status().message().find("it accepts: order.confirmed, order.rejected"),
            std::string::npos)
      << late.status();
  ExpectReplayEqualsSnapshots();
}

// --- examples/features/ ------------------------------------------------------------------------------

TEST_F(ExamplesTest, DocumentOrderFirstEnabledTransitionWinsAndChildBeatsParent) {
  struct Case {
    std::string id;
    int weight_kg;
    std::string state, chosen_by, source;
  };
  for (const Case& c : {Case{"heavy", 1500, "truck", "first transition", "waiting"},
                        Case{"light", 300, "van", "second transition", "waiting"},
                        Case{"odd", -1, "needs_review", "routing (parent)", "routing"}}) {
    SCOPED_TRACE(c.id);
    Start("feature.document_order", Json::object(), c.id);
    Outcome o = Send(c.id, "route", Json{{"weight_kg", c.weight_kg}});
    EXPECT_EQ(o.state, Strings({c.state}));
    EXPECT_EQ(o.run_status, "completed");
    EXPECT_EQ(o.output["chosen_by"], c.chosen_by);
    ASSERT_EQ(o.transitions.size(), 1u);  // only one transition is taken
    EXPECT_EQ(o.transitions[0].source, c.source);
  }
  ExpectReplayEqualsSnapshots();
}

TEST_F(ExamplesTest, ExitEntryOrderIsDeepestOutFirstThenActionsThenShallowestInFirst) {
  Outcome o = Start("feature.exit_entry_order", Json::object(), "x1");
  EXPECT_EQ(o.state, Strings({"a11"}));
  EXPECT_EQ(o.context["log"], Json::array({"enter a", "enter a1", "enter a11"}));

  o = Send("x1", "move");
  EXPECT_EQ(o.state, Strings({"b11"}));
  EXPECT_EQ(o.context["log"],
            Json::array({"enter a", "enter a1", "enter a11", "exit a11", "exit a1", "exit a",
                         "do a11->b11", "enter b", "enter b1", "enter b11"}));

  o = Send("x1", "step");
  EXPECT_EQ(o.state, Strings({"b12"}));
  o = Send("x1", "finish");
  EXPECT_EQ(o.run_status, "completed");
  const Json expected = Json::array(
      {"enter a", "enter a1", "enter a11", "exit a11", "exit a1", "exit a", "do a11->b11", "enter b",
       "enter b1", "enter b11", "exit b11", "do b11->b12", "enter b12", "exit b12", "exit b1",
       "exit b", "do b12->finished", "enter finished"});
  EXPECT_EQ(o.context["log"], expected);
  EXPECT_EQ(o.output["log"], expected);
  ExpectReplayEqualsSnapshots();
}

TEST_F(ExamplesTest, ParallelRegionsMoveTogetherAndFinishWithDoneStateOfTheParallel) {
  Outcome o = Start("feature.parallel", Json::object(), "p1");
  EXPECT_EQ(o.state, Strings({"awaiting_payment", "picking_items"}));

  o = Send("p1", "rush");
  EXPECT_EQ(Steps(o), Strings({"rush: awaiting_payment -> (targetless)",
                               "rush: picking_items -> (targetless)"}));
  EXPECT_EQ(o.context["payment_deadline_days"], 1);
  EXPECT_EQ(o.context["lane"], "express");

  o = Send("p1", "picked");
  EXPECT_EQ(o.state, Strings({"awaiting_payment", "picking_done"}));
  EXPECT_EQ(o.run_status, "active");
  EXPECT_EQ(o.context["log"], Json::array({"picking region done"}));

  o = Send("p1", "paid");
  EXPECT_EQ(o.run_status, "completed");
  EXPECT_EQ(o.state, Strings({"shipped"}));
  EXPECT_EQ(Steps(o), Strings({"paid: awaiting_payment -> payment_done",
                               "done.state.payment: fulfilment -> (targetless)",
                               "done.state.fulfilment: fulfilment -> shipped"}));
  EXPECT_EQ(o.output, (Json{{"lane", "express"},
                            {"log", Json::array({"picking region done", "payment region done",
                                                 "fulfilment done"})}}));
  ExpectReplayEqualsSnapshots();
}

TEST_F(ExamplesTest, FinalChildRaisesDoneStateWithItsOutputAsEventData) {
  Start("feature.final_done", Json{{"customer", "Hurtownia Solar Sp. z o.o."}}, "f1");
  Outcome o = Send("f1", "decide", Json{{"limit_grosze", 5000000}}, "user:cfo");
  EXPECT_EQ(o.state, Strings({"trading"}));
  EXPECT_EQ(Steps(o), Strings({"decide: reviewing -> approved",
                               "done.state.credit_check: credit_check -> trading"}));
  EXPECT_EQ(o.context["credit_limit_grosze"], 5000000);
  EXPECT_EQ(o.context["decided_by"], "user:cfo");
  o = Send("f1", "close");
  EXPECT_EQ(o.run_status, "completed");
  EXPECT_EQ(o.output, (Json{{"customer", "Hurtownia Solar Sp. z o.o."},
                            {"credit_limit_grosze", 5000000},
                            {"terms", "credit"}}));

  Start("feature.final_done", Json{{"customer", "Nowa Firma"}}, "f2");
  o = Send("f2", "decide", Json{{"limit_grosze", 0}});
  EXPECT_EQ(o.state, Strings({"prepayment_only"}));
  EXPECT_EQ(o.context["decline_reason"], "no credit limit granted");
  o = Send("f2", "close");
  EXPECT_EQ(o.output["terms"], "prepayment");
  ExpectReplayEqualsSnapshots();
}

TEST_F(ExamplesTest, EventlessTransitionsChainWithinOneStep) {
  Outcome o = Start("feature.eventless", Json{{"amount_grosze", 250000}, {"in_stock", true}}, "small");
  EXPECT_EQ(o.state, Strings({"scheduled"}));
  EXPECT_EQ(Steps(o), Strings({"nurt.start:  -> received", "(always): received -> approved",
                               "(always): approved -> scheduled"}));
  EXPECT_EQ(o.context["route"], Json::array({"auto-approved", "in stock"}));

  o = Start("feature.eventless", Json{{"amount_grosze", 2500000}, {"in_stock", false}}, "big");
  EXPECT_EQ(o.state, Strings({"awaiting_approval"}));
  o = Send("big", "approve", Json::object(), "user:szef");
  EXPECT_EQ(o.state, Strings({"backorder"}));
  o = Send("big", "stock.arrived");
  EXPECT_EQ(o.state, Strings({"scheduled"}));
  EXPECT_EQ(Steps(o), Strings({"stock.arrived: backorder -> (targetless)",
                               "(always): backorder -> scheduled"}));
  o = Send("big", "ship");
  EXPECT_EQ(o.output["route"], Json::array({"needs approval", "approved by user:szef", "backorder",
                                            "stock arrived"}));
  ExpectReplayEqualsSnapshots();
}

TEST_F(ExamplesTest, InternalEventsRunInOrderAfterEventlessAndBeforeTheNextExternalEvent) {
  Start("feature.internal_events", Json::object(), "q1");
  Outcome o = Send("q1", "submit", Json{{"qty", 3}});
  EXPECT_EQ(o.state, Strings({"ready"}));
  EXPECT_EQ(o.context["log"], Json::array({"submit", "always checking->checked", "priced 300",
                                           "validated", "audited"}));
  EXPECT_EQ(Steps(o), Strings({"submit: idle -> checking", "(always): checking -> checked",
                               "priced: checked -> (targetless)", "validated: checked -> ready",
                               "audited: ready -> (targetless)"}));
  EXPECT_EQ(o.context["total_grosze"], 300);
  // All of it was one accepted event.
  EXPECT_EQ(o.version, 2);
  auto events = store_->ListEvents(kOrg, "q1");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 2u);
  o = Send("q1", "close");
  EXPECT_EQ(o.output["total_grosze"], 300);
  ExpectReplayEqualsSnapshots();
}

TEST_F(ExamplesTest, SpawnedChildReportsBackToItsParentExactlyOnce) {
  Outcome o = Start("feature.spawn_and_send", Json{{"panel_serial", "JA-72-0042"}}, "complaint-1");
  EXPECT_EQ(o.state, Strings({"inspecting"}));
  EXPECT_EQ(o.context["inspection_id"], "complaint-1-inspection");
  EXPECT_TRUE(engine_->Show(kOrg, "complaint-1-inspection").status().IsNotFound());

  EXPECT_EQ(DeliverAll(), 1);
  EXPECT_EQ(DeliverAll(), 0);  // delivered once only
  const auto child = Show("complaint-1-inspection");
  EXPECT_EQ(child.record.machine, "feature.spawn_child");
  EXPECT_EQ(child.record.state, Strings({"waiting"}));
  EXPECT_EQ(child.record.snapshot["context"]["parent_id"], "complaint-1");
  EXPECT_EQ(child.record.snapshot["context"]["panel_serial"], "JA-72-0042");

  o = Send("complaint-1-inspection", "inspected", Json{{"verdict", "transport damage"}}, "user:serwis");
  EXPECT_EQ(o.run_status, "completed");
  EXPECT_EQ(Show("complaint-1").record.state, Strings({"inspecting"}));  // not delivered yet

  EXPECT_EQ(DeliverAll(), 1);
  const auto parent = Show("complaint-1");
  EXPECT_EQ(parent.record.run_status, "completed");
  EXPECT_EQ(parent.record.state, Strings({"resolved"}));
  EXPECT_EQ(parent.record.snapshot["output"],
            (Json{{"verdict", "transport damage"}, {"inspection_id", "complaint-1-inspection"}}));
  EXPECT_EQ(parent.record.snapshot["context"]["reported_by"], "instance:complaint-1-inspection");
  EXPECT_EQ(DeliverAll(), 0);
  ExpectReplayEqualsSnapshots();
}

int LineOf(const std::string& file, const std::string& needle) {
  auto text = env::LocalFileSystem()->ReadFile(file);
  EXPECT_TRUE(text.ok()) << text.status();
  if (!text.ok()) return 0;
  const std::size_t at = text->find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  return 1 + static_cast<int>(std::count(text->begin(), text->begin() + static_cast<long>(at), '\n'));
}

TEST_F(ExamplesTest, FailingActionRaisesErrorExecutionHandledByTheParent) {
  Start("feature.error_handling", Json{{"title", "FV/2026/01/0042"}}, "ok");
  Outcome o = Send("ok", "book", Json{{"amount", "1234,56"}});
  EXPECT_EQ(o.state, Strings({"booked"}));
  EXPECT_EQ(o.context["amount_grosze"], 123456);
  EXPECT_TRUE(o.context["amount_grosze"].is_number_integer());

  Start("feature.error_handling", Json{{"title", "FV/2026/01/0043"}}, "bad");
  o = Send("bad", "book", Json{{"amount", "12.34 EUR"}});
  EXPECT_EQ(o.state, Strings({"needs_attention"}));
  EXPECT_EQ(Steps(o), Strings({"book: unbooked -> booked",
                               "error.execution: importing -> needs_attention"}));
  EXPECT_EQ(o.context["attempts"], 1);               // the action before the failing one ran
  EXPECT_FALSE(o.context.contains("booked_at"));     // the one after it was skipped
  EXPECT_FALSE(o.context.contains("amount_grosze"));
  const std::string file = kRoot + "/examples/features/error_handling.yaml";
  const std::string where =
      "error_handling.yaml:" + std::to_string(LineOf(file, "error('cannot read amount")) + ":";
  const std::string message = o.context["last_error"].get<std::string>();
  EXPECT_NE(message.find(where), std::string::npos) << message;
  EXPECT_NE(message.find("cannot read amount \"12.34 EUR\": expected zł,gr like 1234,56"),
            std::string::npos)
      << message;

  o = Send("bad", "fix", Json{{"amount_grosze", 1234}}, "user:ksiegowa");
  EXPECT_EQ(o.state, Strings({"booked"}));
  EXPECT_TRUE(o.context["last_error"].is_null());
  o = Send("bad", "close");
  EXPECT_EQ(o.output, (Json{{"title", "FV/2026/01/0043"}, {"amount_grosze", 1234}}));
  ExpectReplayEqualsSnapshots();
}

TEST_F(ExamplesTest, ContextSchemaRefusesBadDataAtStartAndAfterEventsWritingNothing) {
  auto no_nip = TryStart("feature.context_schema", Json{{"name", "Kowalski Sp. z o.o."}});
  ASSERT_TRUE(no_nip.status().IsInvalidArgument()) << no_nip.status();
  EXPECT_NE(no_nip.status().message().find("nip"), std::string::npos) << no_nip.status();
  auto short_nip =
      TryStart("feature.context_schema", Json{{"name", "Kowalski Sp. z o.o."}, {"nip", "897-123"}});
  ASSERT_TRUE(short_nip.status().IsInvalidArgument()) << short_nip.status();
  EXPECT_NE(short_nip.status().message().find("/nip"), std::string::npos) << short_nip.status();
  auto none = store_->ListInstances(kOrg, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  Start("feature.context_schema", Json{{"name", "Kowalski Sp. z o.o."}, {"nip", "8971234567"}}, "k1");
  auto greedy = TrySend("k1", "set_discount", Json{{"percent", 50}});
  ASSERT_TRUE(greedy.status().IsInvalidArgument()) << greedy.status();
  EXPECT_NE(greedy.status().message().find("/discount_percent"), std::string::npos) << greedy.status();
  EXPECT_EQ(Version("k1"), 1);
  EXPECT_EQ(Show("k1").record.snapshot["context"]["discount_percent"], 0);

  Outcome o = Send("k1", "set_discount", Json{{"percent", 10}});
  EXPECT_EQ(o.context["discount_percent"], 10);
  o = Send("k1", "archive");
  EXPECT_EQ(o.output, (Json{{"nip", "8971234567"}, {"discount_percent", 10}}));
  ExpectReplayEqualsSnapshots();
}

}  // namespace
}  // namespace nurt
