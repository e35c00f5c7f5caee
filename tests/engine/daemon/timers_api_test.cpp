// Timers in the daemon, through real HTTP: armed by an API call, listed at /v1/instances/{id}/timers,
// fired by the daemon's timer loop when (virtual) time comes, and fired once, late, after a restart.

#include <chrono>
#include <thread>

#include "daemon_fixture.hpp"

namespace nurt::daemon {
namespace {

const char* kReminder = R"(apiVersion: nurt/v1
kind: Machine
name: reminder
version: 1
states:
  waiting:
    after:
      - { delay: PT1H, target: reminded }
    on: { answer: done }
  reminded:
    on: { answer: done }
  done: { type: final }
)";

class TimersApiTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    Upload();
  }

  void Upload() {
    ApiResponse up = Call("POST", "/v1/definitions", admin_, Json{{"file", "reminder.yaml"}, {"source", kReminder}});
    ASSERT_TRUE(up.status == 201 || up.status == 200) << up;
  }

  // The timer loop runs on its own thread: wait (bounded, real time) until the instance shows `state`.
  bool EventuallyIn(const std::string& id, const std::string& state) {
    for (int i = 0; i < 500; ++i) {
      ApiResponse show = Call("GET", "/v1/instances/" + id, admin_);
      if (show.body.is_object() && show.body["state"] == Json::array({state})) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
};

TEST_F(TimersApiTest, TheDaemonFiresADueTimerAndTheApiShowsIt) {
  ApiResponse started = Call("POST", "/v1/instances", admin_, Json{{"machine", "reminder"}});
  ASSERT_EQ(started.status, 201) << started;
  const std::string id = started.body["instanceId"];
  ApiResponse timers = Call("GET", "/v1/instances/" + id + "/timers", admin_);
  ASSERT_EQ(timers.status, 200) << timers;
  ASSERT_EQ(timers.body["items"].size(), 1u);
  EXPECT_EQ(timers.body["items"][0]["status"], "armed");
  EXPECT_EQ(timers.body["items"][0]["description"], "after PT1H");

  clock_.Advance(std::chrono::minutes(61));
  daemon_->WakeTimers();
  ASSERT_TRUE(EventuallyIn(id, "reminded"));
  timers = Call("GET", "/v1/instances/" + id + "/timers", admin_);
  EXPECT_EQ(timers.body["items"][0]["status"], "fired");
  EXPECT_EQ(timers.body["items"][0]["latenessMs"], 60000);
  ApiResponse history = Call("GET", "/v1/instances/" + id + "/history", admin_);
  EXPECT_EQ(history.body["events"].back()["actor"], "nurt:timer");

  ApiResponse other = Call("GET", "/v1/instances/" + id + "/timers", other_admin_);
  EXPECT_EQ(other.status, 404) << other;  // another org's instance does not exist for globex
}

TEST_F(TimersApiTest, ATimerDueWhileTheDaemonWasDownFiresOnceWhenItStarts) {
  ApiResponse started = Call("POST", "/v1/instances", admin_, Json{{"machine", "reminder"}});
  ASSERT_EQ(started.status, 201) << started;
  const std::string id = started.body["instanceId"];
  daemon_->Shutdown();
  daemon_.reset();
  client_.reset();
  clock_.Advance(std::chrono::hours(3));
  StartDaemon();
  ASSERT_TRUE(EventuallyIn(id, "reminded"));
  ApiResponse timers = Call("GET", "/v1/instances/" + id + "/timers", admin_);
  EXPECT_EQ(timers.body["items"][0]["latenessMs"], 2 * 3600 * 1000);
  ApiResponse history = Call("GET", "/v1/instances/" + id + "/history", admin_);
  int fired = 0;
  for (const auto& e : history.body["events"]) fired += e["actor"] == "nurt:timer";
  EXPECT_EQ(fired, 1);
}

}  // namespace
}  // namespace nurt::daemon
