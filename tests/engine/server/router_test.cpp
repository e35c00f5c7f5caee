#include "nurt/server/router.hpp"

#include <gtest/gtest.h>

namespace nurt::server {
namespace {

HttpHandler Named(std::string name) {
  return [name](HttpRequest& req) {
    nurt::Json params = nurt::Json::object();
    for (const auto& [key, value] : req.path_params) params[key] = value;
    return HttpResponse::Json(200, {{"handler", name}, {"params", params}});
  };
}

HttpRequest Request(std::string method, std::string target) {
  HttpRequest req;
  req.method = std::move(method);
  req.target = target;
  req.path = target.substr(0, target.find('?'));
  return req;
}

nurt::Json Body(const HttpResponse& response) { return nurt::Json::parse(response.body); }

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    router_.Add("GET", "/v1/tasks/{id}", Named("task"));
    router_.Add("GET", "/v1/tasks/inbox", Named("inbox"));
    router_.Add("POST", "/v1/tasks/{id}/complete", Named("complete"));
    router_.Add("GET", "/v1/instances/{id}", Named("get_instance"));
    router_.Add("DELETE", "/v1/instances/{id}", Named("delete_instance"));
    router_.Add("GET", "/", Named("root"));
    router_.Add("GET", "/v1/{kind}/{id}/events", Named("events"));
    router_.Add("GET", "/v1/instances/{id}/events", Named("instance_events"));
  }
  Router router_;
};

TEST_F(RouterTest, LiteralSegmentWinsOverParameterRegardlessOfOrderAdded) {
  HttpRequest inbox = Request("GET", "/v1/tasks/inbox");
  EXPECT_EQ(Body(router_.Dispatch(inbox))["handler"], "inbox");
  EXPECT_EQ(inbox.route, "/v1/tasks/inbox");
  EXPECT_TRUE(inbox.path_params.empty());

  HttpRequest task = Request("GET", "/v1/tasks/t-42");
  HttpResponse response = router_.Dispatch(task);
  EXPECT_EQ(Body(response)["handler"], "task");
  EXPECT_EQ(task.route, "/v1/tasks/{id}");
  EXPECT_EQ(task.path_params.at("id"), "t-42");

  HttpRequest events = Request("GET", "/v1/instances/i1/events");
  EXPECT_EQ(Body(router_.Dispatch(events))["handler"], "instance_events");  // first differing segment
  HttpRequest other_events = Request("GET", "/v1/orders/o1/events");
  EXPECT_EQ(Body(router_.Dispatch(other_events))["params"], (nurt::Json{{"id", "o1"}, {"kind", "orders"}}));
}

TEST_F(RouterTest, ParametersArePercentDecodedAndMatchOneNonEmptySegment) {
  HttpRequest encoded = Request("GET", "/v1/instances/a%2Fb%20c");
  EXPECT_EQ(Body(router_.Dispatch(encoded))["params"]["id"], "a/b c");

  HttpRequest empty = Request("GET", "/v1/instances/");
  EXPECT_EQ(router_.Dispatch(empty).status, 404);
  HttpRequest two = Request("GET", "/v1/instances/a/b");
  EXPECT_EQ(router_.Dispatch(two).status, 404);
  HttpRequest root = Request("GET", "/?x=1");
  EXPECT_EQ(Body(router_.Dispatch(root))["handler"], "root");
}

TEST_F(RouterTest, UnknownPathIs404) {
  HttpRequest req = Request("GET", "/v2/nothing");
  HttpResponse response = router_.Dispatch(req);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(Body(response)["error"]["code"], "not_found");
  EXPECT_EQ(req.route, "");
}

TEST_F(RouterTest, KnownPathWithOtherMethodIs405WithAllow) {
  HttpRequest req = Request("PUT", "/v1/instances/x");
  HttpResponse response = router_.Dispatch(req);
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(Body(response)["error"]["code"], "method_not_allowed");
  EXPECT_EQ(response.Header("allow"), "GET, DELETE");
  EXPECT_EQ(req.route, "/v1/instances/{id}");

  HttpRequest post_inbox = Request("POST", "/v1/tasks/inbox");  // the literal template decides
  EXPECT_EQ(router_.Dispatch(post_inbox).status, 405);
}

TEST_F(RouterTest, RoutesListsEveryPairInOrder) {
  auto routes = router_.Routes();
  ASSERT_EQ(routes.size(), 8u);
  EXPECT_EQ(routes[0], (std::pair<std::string, std::string>{"GET", "/v1/tasks/{id}"}));
  EXPECT_EQ(routes[4], (std::pair<std::string, std::string>{"DELETE", "/v1/instances/{id}"}));
}

TEST(RouterDeathTest, DuplicateRouteIsABug) {
  Router router;
  router.Add("GET", "/x/{id}", Named("a"));
  EXPECT_DEATH(router.Add("GET", "/x/{id}", Named("b")), "added twice");
  EXPECT_DEATH(router.Add("GET", "/x/{id}/{id}", Named("b")), "repeats the parameter");
  EXPECT_DEATH(router.Add("GET", "/x/a{id}", Named("b")), "whole segment");
}

TEST(HttpMessageTest, ErrorShapeAndHeaders) {
  HttpResponse error = HttpResponse::Error(409, "conflict", "changed", {{"version", 3}});
  EXPECT_EQ(error.status, 409);
  EXPECT_EQ(error.body, R"({"error":{"code":"conflict","message":"changed","details":{"version":3}}})");
  EXPECT_EQ(HttpResponse::Error(404, "not_found", "gone").body, R"({"error":{"code":"not_found","message":"gone"}})");

  HttpResponse response;
  response.SetHeader("X-A", "1");
  response.SetHeader("x-a", "2");
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.Header("X-A"), "2");

  HttpRequest req;
  req.headers = {{"Content-Type", "text/plain"}};
  req.query = {{"tag", "a"}, {"x", ""}, {"tag", "b"}};
  EXPECT_EQ(req.Header("content-type"), "text/plain");
  EXPECT_EQ(req.Header("missing"), "");
  EXPECT_EQ(req.QueryParam("tag"), "a");
  EXPECT_EQ(req.QueryParam("nope"), "");
  EXPECT_EQ(req.QueryParams("tag"), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace nurt::server
