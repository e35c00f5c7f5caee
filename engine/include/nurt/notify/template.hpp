#pragma once
// Notification templates: text with {{path.to.value}} placeholders resolved against the "vars" object of
// a nurt.notify outbox item (docs/notifications.md "Templates").
//
//   "Faktura {{context.invoice.number}} dla {{context.customer.name}}: {{event.payload.amount}} PLN"
//
// Syntax: `{{ path }}` (spaces inside the braces are ignored); a path is dot-separated keys, a key of
// letters, digits, '_' and '-', and a segment of digits also indexes an array (`items.0.sku`).
// `{{{{` writes a literal `{{`; a `}}` outside a placeholder is literal text.
// Values: text as it is, numbers and booleans as JSON text (`12.5`, `true`), objects and arrays as
// compact JSON, null as empty text. A path that is not in vars renders as empty text and adds a
// warning (the message still goes out: a missing optional field must not lose a notification).
//
// Escaping depends on where the text goes; it applies to the substituted values, never to the
// template's own text (so a Slack template may use Slack's own `<url|label>` links):
//   kText        email body (text/plain): none.
//   kEmailHeader email Subject: CR, LF and other control characters become one space, in the values AND
//                in the whole result, so no value can start a new header (header injection).
//   kSlack       Slack mrkdwn: `&` `<` `>` become `&amp;` `&lt;` `&gt;` (Slack's documented escaping),
//                so a value cannot make a link or mention (<!channel>).
//   kWebhook     none: the rendered text is put into the webhook's JSON body by the JSON library, which
//                escapes it as a JSON string (the body is never assembled by string concatenation).
//
// Thread-safety: pure functions.

#include <string>
#include <string_view>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"

namespace nurt::notify {

enum class Escaping { kText, kEmailHeader, kSlack, kWebhook };

struct RenderedText {
  std::string text;
  // One line per placeholder whose path was not found, e.g.
  // "{{context.customer.email}} at column 12: no value at 'context.customer.email'; rendered as empty text"
  std::vector<std::string> warnings;
};

// Renders `tmpl` against `vars`. InvalidArgument for a syntax error, naming where: "column 7" in a
// one-line template, "line 2, column 7" otherwise (columns count characters, not bytes), and what to
// write instead.
Result<RenderedText> RenderTemplate(std::string_view tmpl, const Json& vars, Escaping escaping);

// Only the syntax check of RenderTemplate (for validating templates before anything is sent).
Status CheckTemplate(std::string_view tmpl);

}  // namespace nurt::notify
