#pragma once
// CSV for people who open exports in Excel: UTF-8 with a byte-order mark (without it Excel reads Polish
// letters as cp1250 mojibake), CRLF line ends, RFC 4180 quoting, and cells that would start a formula
// (=, +, -, @, tab, CR) prefixed with an apostrophe so an exported value can never run in the
// spreadsheet (CSV injection, OWASP).

#include <string>
#include <string_view>
#include <vector>

namespace nurt::api {

class CsvWriter {
 public:
  CsvWriter();  // starts with the BOM
  void Row(const std::vector<std::string>& cells);
  const std::string& text() const { return text_; }

  static std::string Cell(std::string_view value);

 private:
  std::string text_;
};

}  // namespace nurt::api
