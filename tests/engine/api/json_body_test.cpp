#include "api/json_body.hpp"

#include <gtest/gtest.h>

#include "api/csv_writer.hpp"

namespace nurt::api {
namespace {

ApiError Catch(const std::function<void()>& f) {
  try {
    f();
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "no ApiError thrown";
  return {};
}

TEST(ParseJsonBody, MalformedJsonNamesThePointerAndLineOfTheProblem) {
  ApiError e = Catch([] { ParseJsonBody("{\"event\": \"x\",\n \"data\": {\"amount\": 12zl}}"); });
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.code, "malformed_json");
  EXPECT_EQ(e.pointer, "/data/amount");
  EXPECT_EQ(e.details["line"], 2);
  EXPECT_NE(e.message.find("line 2"), std::string::npos) << e.message;
}

TEST(ParseJsonBody, PointerCountsArrayElementsAndEscapesKeys) {
  EXPECT_EQ(Catch([] { ParseJsonBody(R"({"a/b": [1, 2, tru]})"); }).pointer, "/a~1b/2");
  EXPECT_EQ(Catch([] { ParseJsonBody(R"({"items": [{"x": 1}, {"y": }]})"); }).pointer, "/items/1/y");
}

TEST(ParseJsonBody, TruncatedAndEmptyBodies) {
  EXPECT_EQ(Catch([] { ParseJsonBody(R"({"event": "a")"); }).code, "malformed_json");
  EXPECT_EQ(Catch([] { ParseJsonBody(""); }).code, "malformed_json");
  EXPECT_EQ(ParseJsonBody("  ", /*empty_is_object=*/true), Json::object());
  EXPECT_EQ(ParseJsonBody(R"({"a": [1, {"b": null}]})")["a"][1]["b"], nullptr);
}

TEST(BodyReader, FieldErrorsCarryPointers) {
  Json body = Json::parse(R"({"event": 5, "data": [], "tags": ["a", 3], "evnt": 1})");
  BodyReader r(body);
  ApiError e = Catch([&] { r.RequiredString("event"); });
  EXPECT_EQ(e.pointer, "/event");
  EXPECT_NE(e.message.find("expected a string, got an integer"), std::string::npos) << e.message;
  EXPECT_EQ(Catch([&] { r.OptionalObject("data"); }).pointer, "/data");
  EXPECT_EQ(Catch([&] { r.OptionalStringArray("tags"); }).pointer, "/tags/1");
  EXPECT_EQ(Catch([&] { r.RequiredString("missing"); }).pointer, "/missing");
  ApiError unknown = Catch([&] { r.RejectUnknown({"event", "data", "tags"}); });
  EXPECT_EQ(unknown.pointer, "/evnt");
  EXPECT_NE(unknown.message.find("did you mean 'event'"), std::string::npos) << unknown.message;
}

TEST(BodyReader, NestedBaseAndNonObjectBody) {
  Json body = Json::parse(R"({"x": 1})");
  EXPECT_EQ(Catch([&] { BodyReader(body, "/data").RequiredString("name"); }).pointer, "/data/name");
  Json arr = Json::array();
  EXPECT_EQ(Catch([&] { BodyReader r(arr); }).code, "invalid_field");
}

TEST(CsvWriter, BomCrlfQuotingAndFormulaGuard) {
  CsvWriter w;
  w.Row({"id", "name"});
  w.Row({"a,b", "Zażółć \"gęślą\""});
  w.Row({"=SUM(A1)", "-1+2", "@x", "plain"});
  EXPECT_EQ(w.text(),
            "\xEF\xBB\xBFid,name\r\n\"a,b\",\"Zażółć \"\"gęślą\"\"\"\r\n'=SUM(A1),'-1+2,'@x,plain\r\n");
}

}  // namespace
}  // namespace nurt::api
