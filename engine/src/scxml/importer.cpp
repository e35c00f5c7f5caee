// SCXML -> nurt YAML (see nurt/scxml/importer.hpp for the mapping). libxml2 parses the document
// (any encoding it declares); a small YAML writer of our own emits the result so that every Lua
// expression is written as a double-quoted string (yaml-cpp's emitter would write `0` for the
// expression "0", which the loader would then read as a literal: the same value here, but not for
// every expression).

#include "nurt/scxml/importer.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <utility>

#include "nurt/core/json.hpp"
#include "nurt/lua/runtime.hpp"

namespace nurt::scxml {

namespace {

// --- a minimal YAML tree and writer
// -----------------------------------------------------------------

struct Y {
  enum class Kind { kNull, kText, kRaw, kMap, kSeq };
  Kind kind = Kind::kNull;
  std::string text;  // kText: written double-quoted; kRaw: written as is
  std::vector<std::pair<std::string, Y>> map;
  std::vector<Y> seq;

  static Y Text(std::string s) {
    Y y;
    y.kind = Kind::kText;
    y.text = std::move(s);
    return y;
  }
  static Y Raw(std::string s) {
    Y y;
    y.kind = Kind::kRaw;
    y.text = std::move(s);
    return y;
  }
  static Y Map() {
    Y y;
    y.kind = Kind::kMap;
    return y;
  }
  static Y Seq() {
    Y y;
    y.kind = Kind::kSeq;
    return y;
  }
  Y& Set(const std::string& key, Y value) {
    for (auto& [k, v] : map) {
      if (k == key) return v = std::move(value);
    }
    map.emplace_back(key, std::move(value));
    return map.back().second;
  }
  Y* Find(const std::string& key) {
    for (auto& [k, v] : map) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  bool Empty() const {
    return (kind == Kind::kMap && map.empty()) || (kind == Kind::kSeq && seq.empty());
  }
};

std::string Key(const std::string& key) {
  static const std::regex plain("[A-Za-z_][A-Za-z0-9_.-]*");
  static const std::set<std::string> reserved = {"true", "false", "null",  "True", "False",
                                                 "Null", "TRUE",  "FALSE", "NULL"};
  if (std::regex_match(key, plain) && !reserved.count(key)) return key;
  return Json(key).dump();
}

std::string Scalar(const Y& y) {
  switch (y.kind) {
    case Y::Kind::kNull:
      return "null";
    case Y::Kind::kText:
      return Json(y.text).dump();
    case Y::Kind::kRaw:
      return y.text;
    case Y::Kind::kMap:
      return "{}";
    case Y::Kind::kSeq:
      return "[]";
  }
  return "null";
}

void Write(std::ostringstream& out, const Y& y, int indent);

void WriteMap(std::ostringstream& out, const Y& y, int indent, bool first_inline) {
  bool first = true;
  for (const auto& [k, v] : y.map) {
    if (!(first && first_inline)) out << std::string(static_cast<std::size_t>(indent), ' ');
    first = false;
    out << Key(k) << ":";
    if ((v.kind == Y::Kind::kMap || v.kind == Y::Kind::kSeq) && !v.Empty()) {
      out << "\n";
      Write(out, v, v.kind == Y::Kind::kMap ? indent + 2 : indent + 2);
    } else {
      out << " " << Scalar(v) << "\n";
    }
  }
}

void Write(std::ostringstream& out, const Y& y, int indent) {
  if (y.kind == Y::Kind::kMap) {
    WriteMap(out, y, indent, false);
  } else if (y.kind == Y::Kind::kSeq) {
    for (const Y& item : y.seq) {
      out << std::string(static_cast<std::size_t>(indent), ' ') << "- ";
      if (item.kind == Y::Kind::kMap && !item.Empty()) {
        WriteMap(out, item, indent + 2, true);
      } else if (item.kind == Y::Kind::kSeq && !item.Empty()) {
        out << "\n";
        Write(out, item, indent + 2);
      } else {
        out << Scalar(item) << "\n";
      }
    }
  }
}

// --- XML helpers
// ------------------------------------------------------------------------------------

std::string Name(const xmlNode* n) { return n->name ? reinterpret_cast<const char*>(n->name) : ""; }

bool Has(const xmlNode* n, const char* attr) {
  return xmlHasProp(const_cast<xmlNode*>(n), reinterpret_cast<const xmlChar*>(attr)) != nullptr;
}

std::string Attr(const xmlNode* n, const char* attr) {
  xmlChar* v = xmlGetProp(const_cast<xmlNode*>(n), reinterpret_cast<const xmlChar*>(attr));
  if (v == nullptr) return "";
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return out;
}

std::string TextOf(const xmlNode* n) {
  xmlChar* v = xmlNodeGetContent(const_cast<xmlNode*>(n));
  if (v == nullptr) return "";
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return out;
}

std::vector<const xmlNode*> Children(const xmlNode* n) {
  std::vector<const xmlNode*> out;
  for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) out.push_back(c);
  }
  return out;
}

bool HasElementChildren(const xmlNode* n) { return !Children(n).empty(); }

std::vector<std::string> Words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// A Lua string literal holding `text` exactly: 'text' when that needs no escaping, else a long
// bracket.
std::string LuaString(const std::string& text) {
  if (text.find_first_of("'\\\n\r") == std::string::npos) return "'" + text + "'";
  std::string eq;
  while (text.find("]" + eq + "]") != std::string::npos) eq += "=";
  return "[" + eq + "[" + text + "]" + eq + "]";
}

constexpr const char* kScxmlProcessor = "http://www.w3.org/TR/scxml/#SCXMLEventProcessor";

bool IsNumber(const std::string& s) {
  static const std::regex number("-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?");
  return std::regex_match(s, number);
}

// --- the importer
// -----------------------------------------------------------------------------------

class Importer {
 public:
  Importer(std::string file, std::string name) : file_(std::move(file)), name_(std::move(name)) {}

  Result<ImportResult> Run(const xmlNode* root) {
    if (Name(root) != "scxml") {
      return Status::InvalidArgument(Where(root) + "the root element is <" + Name(root) +
                                     ">, not <scxml>: this is not an SCXML document");
    }
    const std::string datamodel = Attr(root, "datamodel");
    if (!datamodel.empty() && datamodel != "lua") {
      return Status::InvalidArgument(
          Where(root) + "datamodel=\"" + datamodel +
          "\" is not supported: nurt's data model is Lua (datamodel=\"lua\")");
    }
    late_binding_ = Attr(root, "binding") == "late";
    if (name_.empty()) name_ = Attr(root, "name");
    name_ = MachineName(name_);
    scxml_name_ = Has(root, "name") ? Attr(root, "name") : name_;
    CollectDataIds(root);

    Y doc = Y::Map();
    doc.Set("apiVersion", Y::Text("nurt/v1"));
    doc.Set("kind", Y::Text("Machine"));
    doc.Set("name", Y::Text(name_));
    doc.Set("version", Y::Raw("1"));
    doc.Set("description", Y::Text("Imported from " + file_ + " by nurt import scxml"));
    doc.Set("errors", Y::Text("ignore"));
    Y data = Y::Map();
    CollectData(root, &data, /*top=*/true);
    if (!data.Empty()) doc.Set("data", std::move(data));
    Y states = Y::Map();
    Y init = Y::Seq();
    for (const xmlNode* c : Children(root)) {
      if (IsStateElement(c)) AddState(c, &states);
      if (Name(c) == "script")
        init.seq.push_back(Action(c));  // run at load time: the machine's `init:`
    }
    if (!init.Empty()) doc.Set("init", std::move(init));
    const std::vector<std::string> initial = Words(Attr(root, "initial"));
    if (initial.size() > 1 || (initial.size() == 1 && states.Find(initial.front()) == nullptr)) {
      // Several or deeper initial states: a first top-level pseudo-state goes there at once (as for
      // <initial> in AddState).
      Y tr = Y::Map();
      Y targets = Y::Seq();
      for (const auto& x : initial) targets.seq.push_back(Y::Text(x));
      tr.Set("target", initial.size() == 1 ? Y::Text(initial.front()) : std::move(targets));
      Y list = Y::Seq();
      list.seq.push_back(std::move(tr));
      Y init = Y::Map();
      init.Set("always", std::move(list));
      Y reordered = Y::Map();
      reordered.Set("_initial", std::move(init));
      for (auto& [k, v] : states.map) reordered.Set(k, std::move(v));
      states = std::move(reordered);
      doc.Set("initial", Y::Text("_initial"));
    } else if (initial.size() == 1) {
      doc.Set("initial", Y::Text(initial.front()));
    }
    doc.Set("states", std::move(states));
    std::ostringstream out;
    out << "# yaml-language-server: $schema=../schemas/nurt-machine.schema.json\n";
    Write(out, doc, 0);
    ImportResult r;
    r.yaml = out.str();
    r.machine_name = name_;
    r.warnings = std::move(warnings_);
    return r;
  }

 private:
  std::string Where(const xmlNode* n) const {
    return file_ + ":" + std::to_string(xmlGetLineNo(const_cast<xmlNode*>(n))) + ": ";
  }
  void Warn(const xmlNode* n, const std::string& what) { warnings_.push_back(Where(n) + what); }

  static std::string MachineName(const std::string& raw) {
    std::string out;
    for (char c : raw) {
      const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out += (std::isalnum(static_cast<unsigned char>(l)) || l == '_' || l == '.' || l == '-')
                 ? l
                 : '-';
    }
    if (out.empty() || !std::islower(static_cast<unsigned char>(out[0]))) out = "scxml-" + out;
    return out;
  }

  static bool IsStateElement(const xmlNode* n) {
    const std::string e = Name(n);
    return e == "state" || e == "parallel" || e == "final" || e == "history";
  }

  void CollectDataIds(const xmlNode* n) {
    for (const xmlNode* c : Children(n)) {
      const std::string e = Name(c);
      if (e == "data" && Has(c, "id")) data_ids_.push_back(Attr(c, "id"));
      if (e == "script") {
        // A global a script assigns (`x = 1` at the start of a line) is a variable of the data
        // model.
        static const std::regex assigned(R"re((?:^|\n|;)\s*([A-Za-z_][A-Za-z0-9_]*)\s*=[^=])re");
        const std::string text = TextOf(c);
        for (auto it = std::sregex_iterator(text.begin(), text.end(), assigned);
             it != std::sregex_iterator(); ++it) {
          if ((*it)[1] != "local") data_ids_.push_back((*it)[1]);
        }
      }
      if (e == "foreach") {
        if (Has(c, "item")) data_ids_.push_back(Attr(c, "item"));
        if (Has(c, "index")) data_ids_.push_back(Attr(c, "index"));
      }
      CollectDataIds(c);
    }
  }

  // A Lua expression for nurt. SCXML wants an expression that does not parse to raise
  // error.execution when it is evaluated (5.9), not to make the document invalid: such an
  // expression becomes a call to error() with Lua's message, which the loader accepts and which
  // fails exactly where the original did.
  std::string Lua(const std::string& code) const {
    const std::string rewritten = RewriteLua(code, data_ids_, scxml_name_);
    const auto bad =
        lua::CheckSyntax(lua::Chunk{rewritten, file_, 1}, lua::SyntaxKind::kExpression);
    const bool statements =
        bad && !lua::CheckSyntax(lua::Chunk{rewritten, file_, 1}, lua::SyntaxKind::kStatements);
    if (!bad && !Trim(rewritten).empty()) return rewritten;
    const std::string why = Trim(rewritten).empty() ? "an empty expression"
                            : statements            ? "'" + code + "' is not an expression"
                                         : "'" + code + "' does not parse: " + bad->message;
    return "error(" + Json(why).dump() + ")";
  }
  // Lua statements (<script>), checked like expressions.
  std::string LuaStatements(const std::string& code) const {
    const std::string rewritten = RewriteLua(code, data_ids_, scxml_name_);
    const auto bad =
        lua::CheckSyntax(lua::Chunk{rewritten, file_, 1}, lua::SyntaxKind::kStatements);
    if (!bad) return rewritten;
    return "error(" + Json("script does not parse: " + bad->message).dump() + ")";
  }

  // The value of a <data>, <param> or <content>: `expr`, else its text as a Lua literal.
  Y ValueOf(const xmlNode* n, const char* expr_attr = "expr") {
    if (Has(n, expr_attr)) return Y::Text(Lua(Attr(n, expr_attr)));
    if (HasElementChildren(n)) {
      Warn(n, "<" + Name(n) + "> with XML content is not supported: the value is null");
      return Y();
    }
    const std::string text = Trim(TextOf(n));
    if (text.empty()) return Y();
    if (IsNumber(text)) return Y::Text(text);
    if (text.front() == '{' || text.front() == '\'' || text.front() == '"')
      return Y::Text(Lua(text));
    return Y::Text(LuaString(text));
  }

  // <datamodel> contents: at the top (early binding) everything in the document; with late binding
  // only the top-level <datamodel>, the others are assigned when their state is entered.
  void CollectData(const xmlNode* n, Y* data, bool top) {
    for (const xmlNode* c : Children(n)) {
      if (Name(c) == "datamodel") {
        for (const xmlNode* d : Children(c)) {
          if (Name(d) != "data" || !Has(d, "id")) continue;
          if (Has(d, "src")) {
            Warn(d,
                 "<data src> is not supported (no fetching of data at start): the value is null");
            data->Set(Attr(d, "id"), Y());
            continue;
          }
          const bool bind_now = top || !late_binding_;
          data->Set(Attr(d, "id"), bind_now ? ValueOf(d) : Y());
        }
      } else if (IsStateElement(c)) {
        CollectData(c, data, false);
      }
    }
  }

  void AddState(const xmlNode* n, Y* states) {
    std::string id = Attr(n, "id");
    if (id.empty()) id = "_state" + std::to_string(++anonymous_);
    const std::string e = Name(n);
    Y st = Y::Map();
    if (e == "history") {
      st.Set("type", Y::Text("history"));
      st.Set("history", Y::Text(Attr(n, "type") == "deep" ? "deep" : "shallow"));
      for (const xmlNode* c : Children(n)) {
        if (Name(c) != "transition") continue;
        SetTargets(c, &st);
        Y actions = Actions(c);
        if (!actions.Empty()) st.Set("actions", std::move(actions));
      }
      states->Set(id, std::move(st));
      return;
    }
    if (e == "parallel") st.Set("type", Y::Text("parallel"));
    if (e == "final") st.Set("type", Y::Text("final"));
    // initial: the attribute or an <initial> child's transition.
    std::vector<std::string> initial = Words(Attr(n, "initial"));
    Y initial_actions = Y::Seq();
    for (const xmlNode* c : Children(n)) {
      if (Name(c) != "initial") continue;
      for (const xmlNode* t : Children(c)) {
        if (Name(t) != "transition") continue;
        initial = Words(Attr(t, "target"));
        initial_actions = Actions(t);
      }
    }
    Y entry = Y::Seq();
    Y exit = Y::Seq();
    Y on = Y::Map();
    Y always = Y::Seq();
    Y children = Y::Map();
    if (late_binding_) {
      for (const xmlNode* c : Children(n)) {
        if (Name(c) != "datamodel") continue;
        for (const xmlNode* d : Children(c)) {
          if (Name(d) != "data" || !Has(d, "id")) continue;
          Y value = ValueOf(d);
          if (value.kind == Y::Kind::kNull) continue;
          Y assign = Y::Map();
          assign.Set(Attr(d, "id"), std::move(value));
          Y action = Y::Map();
          action.Set("assign", std::move(assign));
          entry.seq.push_back(std::move(action));
        }
      }
    }
    std::vector<const xmlNode*> transitions;
    int onentries = 0, onexits = 0;
    for (const xmlNode* c : Children(n)) {
      onentries += Name(c) == "onentry";
      onexits += Name(c) == "onexit";
    }
    // Each <onentry>/<onexit> is its own block (an error skips the rest of that block only): with
    // several, each becomes a `block` action.
    auto add_handler = [this](const xmlNode* c, int handlers, Y* to) {
      Y actions = Actions(c);
      if (handlers <= 1) {
        for (Y& a : actions.seq) to->seq.push_back(std::move(a));
      } else if (!actions.Empty()) {
        Y block = Y::Map();
        block.Set("block", std::move(actions));
        to->seq.push_back(std::move(block));
      }
    };
    for (const xmlNode* c : Children(n)) {
      const std::string ce = Name(c);
      if (ce == "onentry") {
        add_handler(c, onentries, &entry);
      } else if (ce == "onexit") {
        add_handler(c, onexits, &exit);
      } else if (ce == "transition") {
        transitions.push_back(c);
      } else if (IsStateElement(c)) {
        AddState(c, &children);
      } else if (ce == "invoke") {
        Warn(c,
             "<invoke> is not supported: nurt cannot run a child SCXML session from a state yet "
             "(spawn starts an independent instance); the state is imported without it");
      } else if (ce == "donedata") {
        st.Set("output", DoneData(c));
      } else if (ce != "datamodel" && ce != "initial") {
        Warn(c, "<" + ce + "> inside <" + e + "> is not SCXML; ignored");
      }
    }
    const bool deep_initial = initial.size() > 1 || (initial.size() == 1 && !children.Empty() &&
                                                     children.Find(initial.front()) == nullptr);
    if (!children.Empty() && (!initial_actions.Empty() || deep_initial)) {
      // SCXML's <initial> is a pseudo-state with one transition, which may carry actions and name
      // several (or deeper) states; nurt's `initial` names one child. So the pseudo-state becomes a
      // real first child, left at once by an eventless transition (one extra microstep, before any
      // raised event).
      const std::string pseudo = id + "_initial";
      Y init = Y::Map();
      Y tr = Y::Map();
      Y targets = Y::Seq();
      for (const auto& x : initial) targets.seq.push_back(Y::Text(x));
      tr.Set("target", initial.size() == 1 ? Y::Text(initial.front()) : std::move(targets));
      if (!initial_actions.Empty()) tr.Set("actions", std::move(initial_actions));
      Y list = Y::Seq();
      list.seq.push_back(std::move(tr));
      init.Set("always", std::move(list));
      Y reordered = Y::Map();
      reordered.Set(pseudo, std::move(init));
      for (auto& [k, v] : children.map) reordered.Set(k, std::move(v));
      children = std::move(reordered);
      st.Set("initial", Y::Text(pseudo));
    } else if (initial.size() == 1 && !children.Empty()) {
      if (children.Find(initial.front()) != nullptr) {
        st.Set("initial", Y::Text(initial.front()));
      } else {
        // nurt's `initial` names a child; SCXML may name a deeper descendant: enter the child
        // holding it.
        const std::string holder = ChildHolding(n, initial.front());
        if (!holder.empty()) st.Set("initial", Y::Text(holder));
        Warn(n, "initial state '" + initial.front() + "' is not a child of '" + id +
                    "': nurt enters its child '" + holder +
                    "' (and that child's own initial states)");
      }
    } else if (initial.size() > 1) {
      Warn(n, "several initial states (" + Join(initial) +
                  ") are not supported; the first child is entered");
    }
    Y list = Y::Seq();
    const bool grouped = GroupingKeepsOrder(transitions);
    for (const xmlNode* t : transitions) AddTransition(t, &on, &always, grouped ? nullptr : &list);
    if (!entry.Empty()) st.Set("entry", std::move(entry));
    if (!exit.Empty()) st.Set("exit", std::move(exit));
    if (!on.Empty()) st.Set("on", std::move(on));
    if (!always.Empty()) st.Set("always", std::move(always));
    if (!list.Empty()) st.Set("transitions", std::move(list));
    if (!children.Empty()) st.Set("states", std::move(children));
    if (e == "parallel" && children.Empty() && st.Find("states") == nullptr) {
      Warn(n, "an empty <parallel> becomes an atomic state");
      st.map.erase(st.map.begin());
    }
    states->Set(id, st.map.empty() ? Y() : std::move(st));
  }

  static std::string Join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
    return out;
  }

  std::string ChildHolding(const xmlNode* n, const std::string& id) {
    for (const xmlNode* c : Children(n)) {
      if (!IsStateElement(c)) continue;
      if (Attr(c, "id") == id || Contains(c, id)) return Attr(c, "id");
    }
    return "";
  }
  bool Contains(const xmlNode* n, const std::string& id) {
    for (const xmlNode* c : Children(n)) {
      if (IsStateElement(c) && (Attr(c, "id") == id || Contains(c, id))) return true;
    }
    return false;
  }

  void SetTargets(const xmlNode* t, Y* out) {
    const std::vector<std::string> targets = Words(Attr(t, "target"));
    if (targets.size() == 1) {
      out->Set("target", Y::Text(targets.front()));
    } else if (targets.size() > 1) {
      Y list = Y::Seq();
      for (const auto& x : targets) list.seq.push_back(Y::Text(x));
      out->Set("target", std::move(list));
    }
  }

  // target, guard, actions and type of a <transition>, as a nurt transition map.
  Y TransitionMap(const xmlNode* t) {
    Y tr = Y::Map();
    SetTargets(t, &tr);
    if (!Trim(Attr(t, "cond")).empty()) tr.Set("guard", Y::Text(Lua(Attr(t, "cond"))));
    Y actions = Actions(t);
    if (!actions.Empty()) tr.Set("actions", std::move(actions));
    if (Attr(t, "type") == "internal") tr.Set("type", Y::Text("internal"));
    return tr;
  }

  // A transition's event descriptors as nurt writes them ("foo.*" is "foo", ".*" is "*").
  static std::vector<std::string> Descriptors(const xmlNode* t) {
    std::vector<std::string> out;
    for (std::string ev : Words(Attr(t, "event"))) {
      if (ev.size() > 2 && ev.compare(ev.size() - 2, 2, ".*") == 0) ev.resize(ev.size() - 2);
      out.push_back(ev == ".*" ? "*" : ev);
    }
    return out;
  }

  // Whether grouping the eventful transitions by event (`on:`) keeps their document order: it does
  // when no event comes back after another one (and no transition names several).
  static bool GroupingKeepsOrder(const std::vector<const xmlNode*>& transitions) {
    std::vector<std::string> seen;
    for (const xmlNode* t : transitions) {
      const std::string ev = Attr(t, "event");
      if (ev.empty()) continue;
      if (Words(ev).size() > 1) return false;
      if (!seen.empty() && seen.back() != ev &&
          std::find(seen.begin(), seen.end(), ev) != seen.end()) {
        return false;
      }
      seen.push_back(ev);
    }
    return true;
  }

  // Adds a <transition> to `on:` (grouped by event), `always:` (eventless) or, when `list` is
  // given, to `transitions:` in document order (one entry per event descriptor).
  void AddTransition(const xmlNode* t, Y* on, Y* always, Y* list) {
    const Y tr = TransitionMap(t);
    const std::vector<std::string> events = Descriptors(t);
    if (events.empty()) {
      (list != nullptr ? list : always)->seq.push_back(tr);
      return;
    }
    for (const std::string& ev : events) {
      if (list != nullptr) {
        Y item = Y::Map();
        item.Set("event", Y::Text(ev));
        for (const auto& [k, v] : tr.map) item.Set(k, v);
        list->seq.push_back(std::move(item));
        continue;
      }
      Y* group = on->Find(ev);
      if (group == nullptr) group = &on->Set(ev, Y::Seq());
      group->seq.push_back(tr);
    }
  }

  Y DoneData(const xmlNode* n) {
    Y fields = Y::Map();
    for (const xmlNode* c : Children(n)) {
      if (Name(c) == "content") return ValueOf(c);
      if (Name(c) == "param") fields.Set(Attr(c, "name"), ParamValue(c));
    }
    return fields;
  }

  Y ParamValue(const xmlNode* p) {
    if (Has(p, "location")) return Y::Text(Lua(Attr(p, "location")));
    return ValueOf(p);
  }

  Y Unsupported(const xmlNode* n, const std::string& why) {
    Warn(n, "<" + Name(n) + "> " + why);
    Y a = Y::Map();
    a.Set("lua", Y::Text("error(" + Json("not imported: <" + Name(n) + "> " + why).dump() + ")"));
    return a;
  }

  Y Actions(const xmlNode* parent) {
    Y out = Y::Seq();
    for (const xmlNode* c : Children(parent)) out.seq.push_back(Action(c));
    return out;
  }

  static bool IsPath(const std::string& s) {
    static const std::regex path("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*");
    return std::regex_match(s, path);
  }
  bool Declared(const std::string& location) const {
    const std::string head = location.substr(0, location.find_first_of(".[ "));
    return std::find(data_ids_.begin(), data_ids_.end(), head) != data_ids_.end();
  }

  Y Action(const xmlNode* n) {
    const std::string e = Name(n);
    Y a = Y::Map();
    if (e == "raise") {
      Y emit = Y::Map();
      emit.Set("event", Y::Text(Attr(n, "event")));
      a.Set("emit", std::move(emit));
    } else if (e == "send") {
      return Send(n);
    } else if (e == "cancel") {
      Y cancel = Y::Map();
      cancel.Set("id", Y::Text(Has(n, "sendidexpr") ? Lua(Attr(n, "sendidexpr"))
                                                    : LuaString(Attr(n, "sendid"))));
      a.Set("cancel", std::move(cancel));
    } else if (e == "assign") {
      const std::string location = Trim(Attr(n, "location"));
      Y value = ValueOf(n);
      if (!Declared(location)) {
        // SCXML 5.4: assigning to a location that was not declared is an error.execution.
        a.Set("lua",
              Y::Text("error(" +
                      Json("assign: location '" + location + "' was not declared").dump() + ")"));
      } else {
        // Lua rather than `assign`: in SCXML's Lua data model a value may be nil (nurt's `assign`
        // refuses nil, as a likely mistake in a designer's YAML).
        a.Set("lua", Y::Text(Lua(location) + " = " +
                             (value.kind == Y::Kind::kNull ? "null" : "(" + value.text + ")")));
      }
    } else if (e == "log") {
      Y log = Y::Map();
      if (Has(n, "label")) log.Set("label", Y::Text(Attr(n, "label")));
      if (Has(n, "expr")) log.Set("value", Y::Text(Lua(Attr(n, "expr"))));
      a.Set("log", std::move(log));
    } else if (e == "script") {
      if (Has(n, "src"))
        return Unsupported(n, "with src is not supported (scripts are inline Lua)");
      a.Set("lua", Y::Text(LuaStatements(TextOf(n))));
    } else if (e == "if") {
      Y branch = Y::Map();
      branch.Set("cond", Y::Text(Lua(Attr(n, "cond"))));
      Y* block = &branch.Set("then", Y::Seq());
      Y else_ifs = Y::Seq();
      Y otherwise = Y::Seq();
      bool in_else = false;
      for (const xmlNode* c : Children(n)) {
        if (Name(c) == "elseif") {
          Y item = Y::Map();
          item.Set("cond", Y::Text(Lua(Attr(c, "cond"))));
          item.Set("then", Y::Seq());
          else_ifs.seq.push_back(std::move(item));
          block = &else_ifs.seq.back().map.back().second;
        } else if (Name(c) == "else") {
          in_else = true;
          block = &otherwise;
        } else {
          block->seq.push_back(Action(c));
        }
      }
      if (!else_ifs.Empty()) branch.Set("else_if", std::move(else_ifs));
      if (in_else) branch.Set("else", std::move(otherwise));
      a.Set("if", std::move(branch));
    } else if (e == "foreach") {
      for (const char* attr : {"item", "index"}) {
        if (Has(n, attr) && !IsPath(Attr(n, attr))) {
          // SCXML 4.6: an item/index that is not a legal variable name is an error.execution.
          a.Set("lua", Y::Text("error(" +
                               Json(std::string("foreach: ") + attr + " '" + Attr(n, attr) +
                                    "' is not a variable name")
                                   .dump() +
                               ")"));
          return a;
        }
      }
      Y loop = Y::Map();
      loop.Set("array", Y::Text(Lua(Attr(n, "array"))));
      loop.Set("item", Y::Text(Attr(n, "item")));
      if (Has(n, "index")) loop.Set("index", Y::Text(Attr(n, "index")));
      loop.Set("do", Actions(n));
      a.Set("foreach", std::move(loop));
    } else {
      return Unsupported(n, "is not executable content nurt knows");
    }
    return a;
  }

  Y Send(const xmlNode* n) {
    const std::string type = Attr(n, "type");
    if (!type.empty() && type != kScxmlProcessor && type != "scxml") {
      // SCXML 6.2: an unsupported type is an error.execution where the <send> is.
      return Unsupported(
          n, "of type '" + type +
                 "' is not supported: nurt sends events between its own instances only");
    }
    const std::string target = Attr(n, "target");
    if (!Has(n, "event") && !Has(n, "eventexpr"))
      return Unsupported(n, "without an event name is not supported");
    Y data;
    if (Has(n, "namelist") || !Children(n).empty()) data = Y::Map();
    for (const auto& name : Words(Attr(n, "namelist"))) data.Set(name, Y::Text(Lua(name)));
    for (const xmlNode* c : Children(n)) {
      if (Name(c) == "param") data.Set(Attr(c, "name"), ParamValue(c));
      if (Name(c) == "content") data = ValueOf(c);
    }
    Y a = Y::Map();
    if (target == "#_internal") {
      Y emit = Y::Map();
      emit.Set("event", Y::Text(Attr(n, "event")));
      if (data.kind != Y::Kind::kNull && !(data.kind == Y::Kind::kMap && data.Empty()))
        emit.Set("data", data);
      a.Set("emit", std::move(emit));
      return a;
    }
    Y send = Y::Map();
    if (Has(n, "eventexpr")) {
      send.Set("event_expr", Y::Text(Lua(Attr(n, "eventexpr"))));
    } else {
      send.Set("event", Y::Text(Attr(n, "event")));
    }
    if (Has(n, "targetexpr")) {
      send.Set("to", Y::Text(Lua(Attr(n, "targetexpr"))));
    } else if (target.rfind("#_scxml_", 0) == 0) {
      send.Set("to", Y::Text(LuaString(target)));
    } else if (!target.empty()) {
      return Unsupported(n, "to target '" + target +
                                "' is not supported: nurt sends to itself, to #_internal "
                                "and to #_scxml_<instance id>; there are no <invoke>d sessions");
    }
    if (data.kind != Y::Kind::kNull) send.Set("data", std::move(data));
    if (Has(n, "delay")) send.Set("delay", Y::Text(LuaString(Attr(n, "delay"))));
    if (Has(n, "delayexpr")) send.Set("delay", Y::Text(Lua(Attr(n, "delayexpr"))));
    if (Has(n, "id")) send.Set("id", Y::Text(LuaString(Attr(n, "id"))));
    if (Has(n, "idlocation")) send.Set("id_location", Y::Text(Attr(n, "idlocation")));
    a.Set("send", std::move(send));
    if (!Has(n, "typeexpr")) return a;
    // typeexpr: checked when the send runs.
    Y check = Y::Map();
    check.Set("cond", Y::Text("(" + Lua(Attr(n, "typeexpr")) +
                              ") == " + Json(std::string(kScxmlProcessor)).dump()));
    Y then = Y::Seq();
    then.seq.push_back(std::move(a));
    check.Set("then", std::move(then));
    Y otherwise = Y::Seq();
    Y fail = Y::Map();
    fail.Set("lua", Y::Text("error('send: unsupported type')"));
    otherwise.seq.push_back(std::move(fail));
    check.Set("else", std::move(otherwise));
    Y wrapped = Y::Map();
    wrapped.Set("if", std::move(check));
    return wrapped;
  }

  std::string file_;
  std::string name_;
  std::string scxml_name_;  // <scxml name> as written: the value of _name
  bool late_binding_ = false;
  int anonymous_ = 0;
  std::vector<std::string> data_ids_;
  std::vector<std::string> warnings_;
};

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdent(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

std::string RewriteLua(const std::string& code, const std::vector<std::string>& data_ids,
                       const std::string& machine_name) {
  const std::set<std::string> ids(data_ids.begin(), data_ids.end());
  std::string out;
  char prev = 0;  // last significant character written
  std::size_t i = 0;
  const std::size_t n = code.size();
  while (i < n) {
    const char c = code[i];
    // Comments and strings are copied as they are.
    if (c == '-' && i + 1 < n && code[i + 1] == '-') {
      const std::size_t end = code.find('\n', i);
      out += code.substr(i, end == std::string::npos ? std::string::npos : end - i);
      i = end == std::string::npos ? n : end;
      continue;
    }
    if (c == '\'' || c == '"') {
      std::size_t j = i + 1;
      while (j < n && code[j] != c) j += code[j] == '\\' ? 2 : 1;
      out += code.substr(i, j + 1 - i);
      i = j + 1;
      prev = c;
      continue;
    }
    if (c == '[' && i + 1 < n && (code[i + 1] == '[' || code[i + 1] == '=')) {
      std::size_t j = i + 1;
      while (j < n && code[j] == '=') ++j;
      if (j < n && code[j] == '[') {
        const std::string close = "]" + std::string(j - i - 1, '=') + "]";
        const std::size_t end = code.find(close, j);
        const std::size_t stop = end == std::string::npos ? n : end + close.size();
        out += code.substr(i, stop - i);
        i = stop;
        prev = ']';
        continue;
      }
    }
    if (IsIdentStart(c)) {
      std::size_t j = i;
      while (j < n && IsIdent(code[j])) ++j;
      const std::string word = code.substr(i, j - i);
      std::size_t k = j;
      while (k < n && std::isspace(static_cast<unsigned char>(code[k]))) ++k;
      const bool member = prev == '.' || prev == ':';
      const bool table_key = (prev == '{' || prev == ',') && k < n && code[k] == '=' &&
                             !(k + 1 < n && code[k + 1] == '=');
      if (member) {
        out += word;
      } else if (table_key) {
        out += word;
      } else if (word == "_event") {
        out += "event";
      } else if (word == "_sessionid") {
        out += "instance_id()";
      } else if (word == "_ioprocessors") {
        // The SCXML Event I/O processor is the only one; its location addresses this instance.
        out += "({scxml={location='#_scxml_'..instance_id()}, [\"" + std::string(kScxmlProcessor) +
               "\"]={location='#_scxml_'..instance_id()}})";
      } else if (word == "_name") {
        out += Json(machine_name).dump();
      } else if (ids.count(word)) {
        out += "ctx." + word;
      } else {
        out += word;
      }
      prev = 'a';
      i = j;
      continue;
    }
    out += c;
    const bool concat =
        c == '.' && ((i + 1 < n && code[i + 1] == '.') || (i > 0 && code[i - 1] == '.'));
    if (!std::isspace(static_cast<unsigned char>(c)))
      prev = concat ? '+' : c;  // `..` is an operator
    ++i;
  }
  return out;
}

Result<ImportResult> ImportScxmlText(const std::string& text, const std::string& file_name,
                                     const ImportOptions& options) {
  xmlDocPtr doc = xmlReadMemory(text.data(), static_cast<int>(text.size()), file_name.c_str(),
                                nullptr, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == nullptr) {
    const xmlError* err = xmlGetLastError();
    std::string why =
        err != nullptr && err->message != nullptr ? Trim(err->message) : "not well-formed XML";
    const int line = err != nullptr ? err->line : 0;
    return Status::InvalidArgument(file_name + ":" + std::to_string(line) + ": " + why);
  }
  std::string name = options.machine_name;
  if (name.empty()) {
    std::string base = file_name.substr(file_name.find_last_of('/') + 1);
    name = base.substr(0, base.find('.'));
  }
  const xmlNode* root = xmlDocGetRootElement(doc);
  Result<ImportResult> r =
      root == nullptr
          ? Result<ImportResult>(Status::InvalidArgument(file_name + ":1: the document is empty"))
          : Importer(file_name, options.machine_name.empty() && Attr(root, "name").empty()
                                    ? name
                                    : options.machine_name)
                .Run(root);
  xmlFreeDoc(doc);
  return r;
}

Result<ImportResult> ImportScxmlFile(const std::string& path, const ImportOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read SCXML file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return ImportScxmlText(text.str(), path, options);
}

}  // namespace nurt::scxml
