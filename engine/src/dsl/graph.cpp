// `nurt graph`: a Definition as Mermaid stateDiagram-v2 or Graphviz dot.
//
// Both formats show the nesting: compound states are boxes around their children, a parallel state's
// regions sit side by side (Mermaid `--` separators; dot: a dashed cluster), `[*]` / a dot marks each
// initial child, final states end in `[*]` (Mermaid) or are double circles (dot). A transition's label is
// its event (none for `always`), then its guard in brackets, shortened. A state with a human task shows
// "task: <title>" (Mermaid: the state's description line; dot: a second line of its label).

#include "nurt/dsl/graph.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace nurt::dsl {

namespace {

constexpr std::size_t kGuardChars = 30;

std::string OneLine(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string Shorten(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
  return s.substr(0, cut) + "…";
}

std::string TaskLabel(const StateSpec& s) {
  return s.task ? "task: " + Shorten(OneLine(s.task->title), kGuardChars) : std::string();
}

// A timer's transition is labelled with what the designer wrote ("after P3WD"), not its synthetic event.
std::string Label(const Definition& d, const TransitionSpec& t) {
  std::string label = t.event;
  if (t.source != kNoState) {
    for (const auto& timer : d.state(t.source).timers) {
      if (timer.event == t.event) label = timer.Describe();
    }
  }
  if (t.guard) {
    if (!label.empty()) label += " ";
    label += "[" + Shorten(OneLine(t.guard->source), kGuardChars) + "]";
  }
  return label;
}

bool IsAncestor(const Definition& d, StateIndex ancestor, StateIndex s) {
  for (StateIndex p = d.state(s).parent; p != kNoState; p = d.state(p).parent) {
    if (p == ancestor) return true;
  }
  return false;
}

// The innermost state that contains both `a` and `b` strictly (a Mermaid block the arrow can be drawn in:
// never a parallel state, whose body holds only regions).
StateIndex ArrowBlock(const Definition& d, StateIndex a, StateIndex b) {
  StateIndex block = d.state(a).parent;
  while (block != kRootState && !(IsAncestor(d, block, b))) block = d.state(block).parent;
  while (block != kRootState && d.state(block).kind == StateKind::kParallel) block = d.state(block).parent;
  return block;
}

// --------------------------------------------------------------------------------------------------
// Mermaid

class Mermaid {
 public:
  explicit Mermaid(const Definition& d) : d_(d), ids_(d.states.size()) {
    static const std::set<std::string> kReserved = {"state", "note", "end", "direction", "class",
                                                    "classdef", "as", "click", "style", "linkstyle",
                                                    "default", "left", "right", "of", "hide"};
    std::set<std::string> used;
    for (std::size_t i = 1; i < d.states.size(); ++i) {
      std::string id;
      for (char c : d.states[i].id) id += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
      std::string lower = id;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (kReserved.count(lower)) id += "_";
      std::string unique = id;
      for (int n = 2; used.count(unique); ++n) unique = id + "_" + std::to_string(n);
      used.insert(unique);
      ids_[i] = unique;
    }
    // Arrows, grouped by the block they are written in.
    for (const auto& s : d.states) {
      for (const auto& t : s.transitions) {
        if (t.targets.empty()) {
          arrows_[ArrowBlock(d, t.source, t.source)].push_back(
              Id(t.source) + " --> " + Id(t.source) + Text(Label(d_, t)));
          continue;
        }
        for (StateIndex target : t.targets) {
          arrows_[ArrowBlock(d, t.source, target)].push_back(Id(t.source) + " --> " + Id(target) +
                                                             Text(Label(d_, t)));
        }
      }
    }
  }

  std::string Render() {
    out_ << "stateDiagram-v2\n";
    if (!d_.name.empty()) out_ << "  %% " << d_.name << " v" << d_.version << "\n";
    Body(kRootState, 1);
    return out_.str();
  }

 private:
  const std::string& Id(StateIndex s) const { return ids_[static_cast<std::size_t>(s)]; }

  static std::string Text(const std::string& label) {
    if (label.empty()) return "";
    std::string out;
    for (char c : label) {
      switch (c) {
        case ';': out += "#59;"; break;  // Mermaid entity codes
        case '#': out += "#35;"; break;
        case '{': out += '('; break;
        case '}': out += ')'; break;
        case '"': out += '\''; break;
        default: out += c;
      }
    }
    return " : " + out;
  }

  void Line(int indent, const std::string& text) { out_ << std::string(static_cast<std::size_t>(indent) * 2, ' ') << text << "\n"; }

  // Declares `s` in its parent's block (a label when the Mermaid id differs from the state id).
  void Declare(StateIndex s, int indent) {
    const StateSpec& spec = d_.state(s);
    if (Id(s) != spec.id) {
      Line(indent, "state \"" + spec.id + "\" as " + Id(s));
    } else if (spec.children.empty()) {
      Line(indent, Id(s));
    }
    if (!spec.children.empty()) {
      Line(indent, "state " + Id(s) + " {");
      Body(s, indent + 1);
      Line(indent, "}");
    }
    if (spec.task) Line(indent, Id(s) + Text(TaskLabel(spec)));
  }

  void Body(StateIndex s, int indent) {
    const StateSpec& spec = d_.state(s);
    if (spec.kind == StateKind::kParallel) {
      for (std::size_t i = 0; i < spec.children.size(); ++i) {
        if (i) Line(indent, "--");
        Declare(spec.children[i], indent);
      }
      return;
    }
    if (spec.initial != kNoState) Line(indent, "[*] --> " + Id(spec.initial));
    for (StateIndex c : spec.children) Declare(c, indent);
    for (StateIndex c : spec.children) {
      if (d_.state(c).kind == StateKind::kFinal) Line(indent, Id(c) + " --> [*]");
    }
    auto it = arrows_.find(s);
    if (it != arrows_.end()) {
      for (const auto& arrow : it->second) Line(indent, arrow);
    }
  }

  const Definition& d_;
  std::vector<std::string> ids_;
  std::map<StateIndex, std::vector<std::string>> arrows_;
  std::ostringstream out_;
};

// --------------------------------------------------------------------------------------------------
// Graphviz dot

std::string DotQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

class Dot {
 public:
  explicit Dot(const Definition& d) : d_(d) {}

  std::string Render() {
    out_ << "digraph " << DotQuote(d_.name.empty() ? "machine" : d_.name) << " {\n";
    out_ << "  compound=true;\n";
    out_ << "  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n";
    out_ << "  edge [fontname=\"Helvetica\", fontsize=10];\n";
    Body(kRootState, 1);
    for (const auto& s : d_.states) {
      for (const auto& t : s.transitions) Edges(t);
    }
    out_ << "}\n";
    return out_.str();
  }

 private:
  bool IsCluster(StateIndex s) const { return !d_.state(s).children.empty(); }
  // A compound or parallel state is drawn as a cluster; edges attach to an invisible point inside it
  // named like the state and are clipped at the cluster's border (lhead/ltail).
  static std::string Cluster(const std::string& id) { return DotQuote("cluster_" + id); }
  static std::string InitialNode(StateIndex s, const Definition& d) {
    return DotQuote(s == kRootState ? "[*]" : "[*]" + d.state(s).id);
  }

  void Line(int indent, const std::string& text) {
    out_ << std::string(static_cast<std::size_t>(indent) * 2, ' ') << text << "\n";
  }

  void Body(StateIndex s, int indent) {
    const StateSpec& spec = d_.state(s);
    if (spec.initial != kNoState && spec.kind != StateKind::kParallel) {
      Line(indent, InitialNode(s, d_) + " [shape=point, width=0.12, label=\"\"];");
      std::string edge = InitialNode(s, d_) + " -> " + DotQuote(d_.state(spec.initial).id);
      if (IsCluster(spec.initial)) edge += " [lhead=" + Cluster(d_.state(spec.initial).id) + "]";
      Line(indent, edge + ";");
    }
    for (StateIndex c : spec.children) State(c, indent);
  }

  void State(StateIndex s, int indent) {
    const StateSpec& spec = d_.state(s);
    if (!IsCluster(s)) {
      std::string attrs = "label=" + DotQuote(spec.task ? spec.id + "\n" + TaskLabel(spec) : spec.id);
      if (spec.kind == StateKind::kFinal) attrs += ", shape=doublecircle, style=solid";
      Line(indent, DotQuote(spec.id) + " [" + attrs + "];");
      return;
    }
    Line(indent, "subgraph " + Cluster(spec.id) + " {");
    Line(indent + 1, "label=" + DotQuote((spec.kind == StateKind::kParallel ? spec.id + " (parallel)" : spec.id) +
                                         (spec.task ? "\n" + TaskLabel(spec) : std::string())) + ";");
    Line(indent + 1, spec.kind == StateKind::kParallel ? "style=\"rounded,dashed\";" : "style=rounded;");
    Line(indent + 1, DotQuote(spec.id) + " [shape=point, style=invis, width=0.01, label=\"\"];");
    Body(s, indent + 1);
    Line(indent, "}");
  }

  void Edges(const TransitionSpec& t) {
    const std::string& source_id = d_.state(t.source).id;
    const std::string label = Label(d_, t);
    std::vector<StateIndex> targets = t.targets;
    const bool targetless = targets.empty();
    if (targetless) targets.push_back(t.source);
    for (StateIndex target : targets) {
      std::vector<std::string> attrs;
      if (!label.empty()) attrs.push_back("label=" + DotQuote(label));
      if (targetless) attrs.push_back("style=dashed");
      if (target != t.source) {
        if (IsCluster(t.source) && !IsAncestor(d_, t.source, target)) attrs.push_back("ltail=" + Cluster(source_id));
        if (IsCluster(target) && !IsAncestor(d_, target, t.source)) {
          attrs.push_back("lhead=" + Cluster(d_.state(target).id));
        }
      }
      std::string line = DotQuote(source_id) + " -> " + DotQuote(d_.state(target).id);
      if (!attrs.empty()) {
        line += " [";
        for (std::size_t i = 0; i < attrs.size(); ++i) line += (i ? ", " : "") + attrs[i];
        line += "]";
      }
      Line(1, line + ";");
    }
  }

  const Definition& d_;
  std::ostringstream out_;
};

}  // namespace

std::string RenderGraph(const Definition& definition, GraphFormat format) {
  if (definition.states.empty()) return format == GraphFormat::kMermaid ? "stateDiagram-v2\n" : "digraph machine {\n}\n";
  if (format == GraphFormat::kMermaid) return Mermaid(definition).Render();
  return Dot(definition).Render();
}

}  // namespace nurt::dsl
