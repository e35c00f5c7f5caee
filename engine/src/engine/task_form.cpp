#include "engine/task_form.hpp"

#include <cmath>
#include <regex>

namespace nurt::engine {
namespace {

// JSON pointer escaping (RFC 6901): '~' -> "~0", '/' -> "~1".
std::string PointerToken(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

bool IsCalendarDate(const std::string& s) {
  static const std::regex re("([0-9]{4})-([0-9]{2})-([0-9]{2})");
  std::smatch m;
  if (!std::regex_match(s, m, re)) return false;
  const int year = std::stoi(m[1]);
  const int month = std::stoi(m[2]);
  const int day = std::stoi(m[3]);
  if (month < 1 || month > 12 || day < 1) return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int max = month == 2 && leap ? 29 : kDays[month - 1];
  return day <= max;
}

// "" when `value` fits `field`, else what is wrong ("expected a number, got \"12zł\"").
std::string Mismatch(const Json& field, const Json& value) {
  const std::string type = field.value("type", "string");
  const std::string got = "got " + value.dump();
  if (type == "string") return value.is_string() ? "" : "expected text, " + got;
  if (type == "number") return value.is_number() ? "" : "expected a number, " + got;
  if (type == "integer") {
    if (value.is_number_integer()) return "";
    if (value.is_number_float()) {
      const double v = value.get<double>();
      if (std::isfinite(v) && std::floor(v) == v) return "";
    }
    return "expected a whole number, " + got;
  }
  if (type == "boolean") return value.is_boolean() ? "" : "expected true or false, " + got;
  if (type == "date") {
    return value.is_string() && IsCalendarDate(value.get<std::string>())
               ? ""
               : "expected a date YYYY-MM-DD, " + got;
  }
  if (type == "enum") {
    const Json options = field.value("options", Json::array());
    for (const auto& o : options) {
      if (o == value) return "";
    }
    std::string list;
    for (const auto& o : options) list += (list.empty() ? "" : ", ") + o.dump();
    return "expected one of " + list + ", " + got;
  }
  return "";
}

}  // namespace

Status CheckTaskCompletion(const store::TaskRecord& task, const Json& data,
                           const std::vector<std::string>& checklist_done) {
  std::vector<std::string> problems;
  if (!data.is_object()) {
    problems.push_back("/data: expected an object of form fields, got " + data.dump());
  } else {
    for (const auto& field : task.form) {
      const std::string name = field.value("name", "");
      const std::string at = "/data/" + PointerToken(name);
      auto it = data.find(name);
      if (it == data.end() || it->is_null()) {
        if (field.value("required", false)) {
          problems.push_back(at + ": required field '" + field.value("label", name) + "' is missing");
        }
        continue;
      }
      const std::string wrong = Mismatch(field, *it);
      if (!wrong.empty()) problems.push_back(at + ": " + wrong);
    }
    for (auto it = data.begin(); it != data.end(); ++it) {
      bool known = false;
      for (const auto& field : task.form) known = known || field.value("name", "") == it.key();
      if (known) continue;
      std::string names;
      for (const auto& field : task.form) names += (names.empty() ? "" : ", ") + field.value("name", "");
      problems.push_back("/data/" + PointerToken(it.key()) + ": the task's form has no field '" + it.key() +
                         "'" + (names.empty() ? " (it has no fields)" : " (fields: " + names + ")"));
    }
  }
  for (std::size_t i = 0; i < checklist_done.size(); ++i) {
    bool known = false;
    for (const auto& item : task.checklist) known = known || item == checklist_done[i];
    if (!known) {
      problems.push_back("/checklist/" + std::to_string(i) + ": '" + checklist_done[i] +
                         "' is not an item of the task's checklist " + task.checklist.dump());
    }
  }
  if (problems.empty()) return Status::Ok();
  std::string message;
  for (const auto& p : problems) message += (message.empty() ? "" : "\n") + p;
  return Status::InvalidArgument(message);
}

}  // namespace nurt::engine
