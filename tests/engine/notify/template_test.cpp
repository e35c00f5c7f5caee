// Notification templates: placeholders over the outbox item's vars, escaping per channel (email
// header injection, Slack mrkdwn control characters, Polish text), and syntax errors with a column.

#include "nurt/notify/template.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace nurt::notify {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

const Json kVars = Json::parse(R"({
  "event": {"type": "invoice.paid", "payload": {"amount": 1234.5, "paid": true, "items": [{"sku": "A-1"}]},
            "actor": "api:księgowość", "id": "01J"},
  "context": {"customer": {"name": "Zażółć Gęślą Jaźń", "nip": 5260250274, "tags": ["vip", "b2b"]},
              "note": null, "html": "<b>AT&T</b> <!channel>"},
  "instance": {"id": "inv-7", "machine": "invoice", "state": ["sent"]}
})");

std::string Render(std::string_view tmpl, Escaping e = Escaping::kText) {
  auto r = RenderTemplate(tmpl, kVars, e);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->text : "";
}

TEST(TemplateTest, ReplacesPlaceholdersByPathWithValuesAsText) {
  EXPECT_EQ(Render("Faktura {{instance.id}} dla {{ context.customer.name }}: {{event.payload.amount}} PLN"),
            "Faktura inv-7 dla Zażółć Gęślą Jaźń: 1234.5 PLN");
  EXPECT_EQ(Render("{{event.payload.paid}} {{context.customer.nip}} {{event.payload.items.0.sku}}"),
            "true 5260250274 A-1");
  EXPECT_EQ(Render("{{context.customer.tags}} {{instance.state}}"), R"(["vip","b2b"] ["sent"])");
  EXPECT_EQ(Render("{{event.payload.items.0}}"), R"({"sku":"A-1"})");
  EXPECT_EQ(Render("[{{context.note}}]"), "[]");
  EXPECT_EQ(Render("no placeholders }} at all"), "no placeholders }} at all");
}

TEST(TemplateTest, MissingValueRendersEmptyWithAWarning) {
  auto r = RenderTemplate("Hi {{context.customer.email}}!{{event.payload.items.5.sku}}", kVars,
                          Escaping::kText);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->text, "Hi !");
  ASSERT_EQ(r->warnings.size(), 2u);
  EXPECT_THAT(r->warnings[0], HasSubstr("{{context.customer.email}} at column 4"));
  EXPECT_THAT(r->warnings[0], HasSubstr("rendered as empty text"));
  EXPECT_THAT(r->warnings[1], HasSubstr("event.payload.items.5.sku"));
  EXPECT_THAT(RenderTemplate("{{instance.id}}", kVars, Escaping::kText)->warnings, IsEmpty());
}

TEST(TemplateTest, FourBracesAreALiteralOpening) {
  EXPECT_EQ(Render("{{{{instance.id}} is {{instance.id}}"), "{{instance.id}} is inv-7");
}

TEST(TemplateTest, EmailHeaderEscapingRemovesLineBreaksSoNoHeaderCanBeInjected) {
  const Json vars = {{"context", {{"name", "Jan\r\nBcc: victim@example.com\r\n\r\nbody"}}}};
  auto r = RenderTemplate("Hello {{context.name}}", vars, Escaping::kEmailHeader);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->text, "Hello Jan Bcc: victim@example.com body");
  EXPECT_EQ(r->text.find('\r'), std::string::npos);
  EXPECT_EQ(r->text.find('\n'), std::string::npos);
  // The template's own line breaks go too: a Subject is one line.
  EXPECT_EQ(RenderTemplate("a\nb", vars, Escaping::kEmailHeader)->text, "a b");
  // Polish characters pass through untouched (the sender encodes them per RFC 2047).
  EXPECT_EQ(Render("Płatność od {{context.customer.name}}", Escaping::kEmailHeader),
            "Płatność od Zażółć Gęślą Jaźń");
  // The body keeps its line breaks and values as they are.
  EXPECT_EQ(RenderTemplate("x\n{{context.name}}", vars, Escaping::kText)->text,
            "x\nJan\r\nBcc: victim@example.com\r\n\r\nbody");
}

TEST(TemplateTest, SlackEscapingNeutralisesControlCharactersInValuesOnly) {
  EXPECT_EQ(Render("<https://nurt.example/i/{{instance.id}}|{{context.html}}>", Escaping::kSlack),
            "<https://nurt.example/i/inv-7|&lt;b&gt;AT&amp;T&lt;/b&gt; &lt;!channel&gt;>");
  EXPECT_EQ(Render("*{{context.customer.name}}*", Escaping::kSlack), "*Zażółć Gęślą Jaźń*");
}

TEST(TemplateTest, WebhookTextIsUnescapedBecauseTheJsonLibraryEscapesIt) {
  const std::string text = Render("{{context.html}} \"q\"", Escaping::kWebhook);
  EXPECT_EQ(text, "<b>AT&T</b> <!channel> \"q\"");
  const Json body = {{"message", text}};
  EXPECT_EQ(body.dump(), R"({"message":"<b>AT&T</b> <!channel> \"q\""})");
}

TEST(TemplateTest, SyntaxErrorsNameTheColumnInCharacters) {
  auto r = RenderTemplate("Zażółć {{context.name", kVars, Escaping::kText);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_THAT(r.status().message(), HasSubstr("column 8: '{{' is not closed"));

  Status st = CheckTemplate("ab {{ }}");
  EXPECT_THAT(st.message(), HasSubstr("column 4: empty placeholder"));
  st = CheckTemplate("ab {{context.customer name}}");
  EXPECT_THAT(st.message(), HasSubstr("column 4: 'context.customer name' is not a path"));
  st = CheckTemplate("{{a..b}}");
  EXPECT_THAT(st.message(), HasSubstr("'a..b' is not a path"));
  st = CheckTemplate("line one\nand {{ {{x}}");
  EXPECT_THAT(st.message(), HasSubstr("line 2, column 5: '{{' is not closed"));
  EXPECT_TRUE(CheckTemplate("ok {{a.b-c.0}} }} {{{{").ok());
}

}  // namespace
}  // namespace nurt::notify
