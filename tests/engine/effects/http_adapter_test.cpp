// The http adapter against a real receiver on loopback: method, headers, body and Idempotency-Key go
// out; 2xx answers come back parsed; statuses and transport failures map to typed, retryable or not.

#include "nurt/effects/http_adapter.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/engine/effects/receiver.hpp"

namespace nurt::effects {
namespace {

using ::testing::HasSubstr;

EffectCall CallOf(Json input) {
  EffectCall c;
  c.effect_id = "E1";
  c.idempotency_key = "i1/1/call/0";
  c.input = std::move(input);
  return c;
}

TEST(HttpAdapter, SendsTheCallAndReturnsTheAnswer) {
  testing::Receiver receiver;
  receiver.Script({{201, std::chrono::milliseconds(0), false, R"({"orderId":"PO-7"})"}});
  auto a = NewHttpAdapter();
  EXPECT_EQ(a->Name(), "http");
  const EffectCall call = CallOf(Json{{"url", receiver.Url("/orders?x=1")}, {"method", "PUT"},
                                      {"headers", {{"X-Partner", "nurt"}}}, {"body", {{"sku", "A-1"}}}});
  EXPECT_EQ(a->Endpoint(call), receiver.Url(""));  // scheme://host:port: the breaker key
  CallResult r = a->Execute(call);
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.http_status, 201);
  EXPECT_EQ(r.output["status"], 201);
  EXPECT_EQ(r.output["body"]["orderId"], "PO-7");
  EXPECT_EQ(r.output["headers"]["content-type"], "application/json");
  auto got = receiver.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "PUT");
  EXPECT_EQ(got[0].path, "/orders?x=1");
  EXPECT_EQ(got[0].Header("x-partner"), "nurt");
  EXPECT_EQ(got[0].idempotency_key, "i1/1/call/0");
  EXPECT_EQ(Json::parse(got[0].body)["sku"], "A-1");
  EXPECT_EQ(r.request_body, got[0].body);

  // No body: GET.
  ASSERT_TRUE(a->Execute(CallOf(Json{{"url", receiver.Url()}})).ok);
  EXPECT_EQ(receiver.requests()[1].method, "GET");
}

TEST(HttpAdapter, StatusesAndTransportFailuresAreTyped) {
  testing::Receiver receiver;
  receiver.Script({{503}, {429}, {404}, {302}});
  auto a = NewHttpAdapter();
  const EffectCall call = CallOf(Json{{"url", receiver.Url()}, {"body", "raw text"}});
  CallResult r = a->Execute(call);
  EXPECT_EQ(r.code, "http-5xx");
  EXPECT_TRUE(r.retryable);
  r = a->Execute(call);
  EXPECT_EQ(r.code, "http-4xx");
  EXPECT_TRUE(r.retryable) << "429 asks to come back later";
  r = a->Execute(call);
  EXPECT_EQ(r.code, "http-4xx");
  EXPECT_FALSE(r.retryable);
  EXPECT_THAT(r.message, HasSubstr("HTTP 404"));
  r = a->Execute(call);
  EXPECT_EQ(r.code, "redirect");
  EXPECT_FALSE(r.retryable);
  EXPECT_EQ(receiver.requests()[0].body, "raw text");

  r = a->Execute(CallOf(Json{{"url", "http://127.0.0.1:1/nobody"}}));
  EXPECT_EQ(r.code, "connection");
  EXPECT_TRUE(r.retryable);
  EXPECT_EQ(r.http_status, 0);
}

}  // namespace
}  // namespace nurt::effects
