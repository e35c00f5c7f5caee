// `nurt webhooks …` in-process on a throwaway store: create (the secret shown once), ls, pause/resume,
// a test delivery to a real receiver on loopback, the deliveries, rm, and refusals with their reason.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "nurt/cli/cli.hpp"
#include "temp_dir.hpp"
#include "tests/engine/notify/notify_test_util.hpp"

namespace nurt::cli {
namespace {

using ::testing::HasSubstr;

struct Ran {
  int code = -1;
  std::string out, err;
};

class WebhooksCommandTest : public ::testing::Test {
 protected:
  WebhooksCommandTest() {
    env_.db = dir_.File("nurt.db");
    env_.org = "acme";
  }

  Ran Nurt(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    Ran r;
    r.code = RunCli(args, env_, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  testing::TempDir dir_;
  CliEnvironment env_;
  notify::testing::HttpReceiver receiver_;
};

TEST_F(WebhooksCommandTest, CreatePauseTestListAndRemove) {
  Ran created = Nurt({"webhooks", "create", "--url", receiver_.Url("/hook"), "--events", "order.*, invoice.paid",
                      "--allow-http-loopback", "--json"});
  ASSERT_EQ(created.code, 0) << created.err;
  const Json j = Json::parse(created.out);
  const std::string id = j["webhook"]["id"];
  EXPECT_THAT(j["secret"].get<std::string>(), ::testing::StartsWith("whsec_"));
  EXPECT_EQ(j["webhook"]["events"], Json::array({"order.*", "invoice.paid"}));

  Ran ls = Nurt({"webhooks", "ls"});
  ASSERT_EQ(ls.code, 0) << ls.err;
  EXPECT_THAT(ls.out, HasSubstr(id + "  active  " + receiver_.Url("/hook") + "  events order.*,invoice.paid"));
  EXPECT_THAT(ls.out, HasSubstr("1 webhook"));
  EXPECT_EQ(ls.out.find("whsec_"), std::string::npos);

  Ran paused = Nurt({"webhooks", "pause", id, "--reason", "maintenance"});
  ASSERT_EQ(paused.code, 0) << paused.err;
  EXPECT_THAT(paused.out, HasSubstr("paused"));
  ASSERT_EQ(Nurt({"webhooks", "resume", id}).code, 0);

  Ran test = Nurt({"webhooks", "test", id});
  ASSERT_EQ(test.code, 0) << test.err;
  EXPECT_THAT(test.out, HasSubstr("delivered: the receiver answered HTTP 200"));
  ASSERT_EQ(receiver_.received().size(), 1u);
  EXPECT_FALSE(receiver_.received()[0].Header("webhook-signature").empty());

  receiver_.Script({404});
  Ran refused = Nurt({"webhooks", "test", id});
  EXPECT_EQ(refused.code, 1);
  EXPECT_THAT(refused.out, HasSubstr("not delivered:"));
  EXPECT_THAT(refused.out, HasSubstr("HTTP 404"));

  Ran deliveries = Nurt({"webhooks", "deliveries", id});
  ASSERT_EQ(deliveries.code, 0) << deliveries.err;
  EXPECT_THAT(deliveries.out, HasSubstr("nurt.webhook.test  failed  tries 1  last HTTP 404"));
  EXPECT_THAT(deliveries.out, HasSubstr("2 deliveries"));

  ASSERT_EQ(Nurt({"webhooks", "rm", id}).code, 0);
  Ran gone = Nurt({"webhooks", "test", id});
  EXPECT_EQ(gone.code, 1);
  EXPECT_THAT(gone.err, HasSubstr("does not exist"));
}

TEST_F(WebhooksCommandTest, RefusesPlainHttpAndBadUsage) {
  Ran r = Nurt({"webhooks", "create", "--url", "http://erp.example.com/hook"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("/url: 'http://erp.example.com/hook' uses plain http://"));
  EXPECT_EQ(Nurt({"webhooks", "create"}).code, 2);
  Ran unknown = Nurt({"webhooks", "frobnicate"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown webhooks command 'frobnicate'"));
}

}  // namespace
}  // namespace nurt::cli
