// Mermaid and dot diagrams: the nesting of the text must be the nesting of the machine.

#include "nurt/dsl/graph.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "dsl_test_util.hpp"
#include "nurt/dsl/loader.hpp"
#include "temp_dir.hpp"

namespace nurt::dsl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::shared_ptr<const Definition> Load(const std::string& fixture) {
  const LoadResult r = LoadMachineFile(testing::FixturesDir() + "/valid/" + fixture);
  EXPECT_NE(r.definition, nullptr);
  return r.definition;
}

std::size_t ExpectedArrows(const Definition& d) {
  std::size_t n = 0;
  for (const auto& s : d.states) {
    for (const auto& t : s.transitions) n += t.targets.empty() ? 1 : t.targets.size();
  }
  return n;
}

// What a Mermaid state diagram says, read back from its text.
struct MermaidModel {
  std::map<std::string, std::string> label;     // mermaid id -> state id shown
  std::map<std::string, std::string> declared;  // mermaid id -> block it is declared in ("" = top)
  std::map<std::string, std::string> initial;   // block -> `[*] --> X` target
  std::set<std::string> finals;                 // ids with `X --> [*]`, as "block/X"
  std::map<std::string, int> separators;        // block -> number of `--` lines
  std::map<std::string, int> region_of;         // mermaid id -> region index in its block
  std::vector<std::string> arrows;              // "A --> B : label"
};

MermaidModel ReadMermaid(const std::string& text) {
  MermaidModel m;
  std::vector<std::string> stack = {""};
  const std::regex alias(R"re(^state "([^"]+)" as ([A-Za-z0-9_]+)$)re");
  const std::regex open(R"re(^state ([A-Za-z0-9_]+) \{$)re");
  const std::regex bare(R"re(^([A-Za-z0-9_]+)$)re");
  const std::regex start(R"re(^\[\*\] --> ([A-Za-z0-9_]+)$)re");
  const std::regex end(R"re(^([A-Za-z0-9_]+) --> \[\*\]$)re");
  const std::regex arrow(R"re(^([A-Za-z0-9_]+) --> ([A-Za-z0-9_]+)( : .*)?$)re");
  const auto lines = testing::Lines(text);
  EXPECT_EQ(lines.at(0), "stateDiagram-v2");
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::string line = lines[i];
    line.erase(0, line.find_first_not_of(' '));
    const std::string& block = stack.back();
    auto declare = [&](const std::string& id) {
      if (!m.declared.count(id)) {
        m.declared[id] = block;
        m.region_of[id] = m.separators[block];
      }
      EXPECT_EQ(m.declared[id], block) << id << " declared in two blocks";
    };
    std::smatch s;
    if (line.rfind("%%", 0) == 0) continue;
    if (line == "}") {
      stack.pop_back();
    } else if (line == "--") {
      ++m.separators[block];
    } else if (std::regex_match(line, s, alias)) {
      m.label[s[2]] = s[1];
      declare(s[2]);
    } else if (std::regex_match(line, s, open)) {
      declare(s[1]);
      stack.push_back(s[1]);
    } else if (std::regex_match(line, s, start)) {
      EXPECT_FALSE(m.initial.count(block)) << "two initial arrows in " << block;
      m.initial[block] = s[1];
    } else if (std::regex_match(line, s, end)) {
      m.finals.insert(block + "/" + std::string(s[1]));
    } else if (std::regex_match(line, s, arrow)) {
      m.arrows.push_back(line);
    } else if (std::regex_match(line, s, bare)) {
      declare(s[1]);
    } else {
      ADD_FAILURE() << "unexpected Mermaid line: " << lines[i];
    }
  }
  EXPECT_EQ(stack.size(), 1u) << "unbalanced braces";
  return m;
}

TEST(Mermaid, NestingRegionsInitialAndFinalStatesFollowTheMachine) {
  const auto d = Load("graph.yaml");
  ASSERT_NE(d, nullptr);
  const std::string text = RenderGraph(*d, GraphFormat::kMermaid);
  const MermaidModel m = ReadMermaid(text);

  // Mermaid id of every state, through the labels.
  std::map<std::string, std::string> id_of;  // state id -> mermaid id
  for (const auto& [mid, block] : m.declared) {
    const std::string state_id = m.label.count(mid) ? m.label.at(mid) : mid;
    EXPECT_TRUE(id_of.emplace(state_id, mid).second) << state_id << " declared twice";
    EXPECT_NE(d->Find(state_id), kNoState) << "diagram shows unknown state " << state_id;
  }
  ASSERT_EQ(id_of.size(), d->states.size() - 1) << text;
  auto mid = [&](StateIndex s) { return s == kRootState ? std::string() : id_of.at(d->state(s).id); };

  for (std::size_t i = 1; i < d->states.size(); ++i) {
    const StateSpec& s = d->states[i];
    EXPECT_EQ(m.declared.at(mid(static_cast<StateIndex>(i))), mid(s.parent)) << s.id << " is drawn in its parent";
    if (s.kind == StateKind::kFinal) {
      EXPECT_TRUE(m.finals.count(mid(s.parent) + "/" + mid(static_cast<StateIndex>(i)))) << s.id;
    }
    if (s.kind == StateKind::kCompound) {
      ASSERT_TRUE(m.initial.count(mid(static_cast<StateIndex>(i)))) << s.id << " has an initial arrow";
      EXPECT_EQ(m.initial.at(mid(static_cast<StateIndex>(i))), mid(s.initial));
    }
    if (s.kind == StateKind::kParallel) {
      const std::string block = mid(static_cast<StateIndex>(i));
      EXPECT_FALSE(m.initial.count(block)) << "a parallel state has no initial arrow";
      EXPECT_EQ(m.separators.count(block) ? m.separators.at(block) : 0, static_cast<int>(s.children.size()) - 1);
      for (std::size_t r = 0; r < s.children.size(); ++r) {
        EXPECT_EQ(m.region_of.at(mid(s.children[r])), static_cast<int>(r)) << "region " << r << " of " << s.id;
      }
    }
  }
  EXPECT_EQ(m.initial.at(""), mid(d->state(kRootState).initial));
  EXPECT_EQ(m.arrows.size(), ExpectedArrows(*d));

  // Ids are sanitised, unique and not Mermaid keywords; the real id is the label.
  EXPECT_EQ(id_of.at("start-here"), "start_here");
  EXPECT_EQ(id_of.at("work.split"), "work_split");
  EXPECT_EQ(id_of.at("end"), "end_");
  EXPECT_EQ(id_of.at("state"), "state_");
  EXPECT_NE(id_of.at("a-b"), id_of.at("a_b"));
  EXPECT_THAT(text, HasSubstr("state \"work.split\" as work_split\n"));

  // Labels: event, then the guard shortened, in brackets; no double quote survives.
  EXPECT_THAT(m.arrows, ::testing::Contains("m1a --> m1b : next [event.data.kind == 'fast' and …]"));
  EXPECT_THAT(m.arrows, ::testing::Contains("start_here --> work_split : go"));
  EXPECT_THAT(m.arrows, ::testing::Contains("work_split --> l2 : abort"));
  EXPECT_THAT(m.arrows, ::testing::Contains("work_split --> r1 : abort"));
  EXPECT_THAT(m.arrows, ::testing::Contains("r2 --> r2 : poke")) << "targetless: a loop";
}

TEST(Mermaid, LabelsCannotBreakTheSyntax) {
  const LoadResult r = LoadMachineText(
      "apiVersion: nurt/v1\nkind: Machine\nname: t\nversion: 1\nstates:\n  a:\n    on:\n"
      "      go: { target: b, guard: \"#ctx.x > 0 and ctx.y == '{;}'\" }\n  b: {}\n",
      "m.yaml");
  ASSERT_NE(r.definition, nullptr);
  const std::string text = RenderGraph(*r.definition, GraphFormat::kMermaid);
  EXPECT_THAT(text, HasSubstr("a --> b : go [#35;ctx.x > 0 and ctx.y == '(#59;)']"));
}

// What a dot graph says: which cluster each node is in, and the edges.
struct DotModel {
  std::map<std::string, std::string> node_cluster;  // node -> enclosing cluster ("" = top)
  std::map<std::string, std::string> node_attrs;
  std::map<std::string, std::string> cluster_parent;
  std::map<std::string, std::string> cluster_style;
  std::vector<std::pair<std::string, std::string>> edges;  // (line, attrs) for state edges
  int initial_edges = 0;
};

DotModel ReadDot(const std::string& text) {
  DotModel m;
  std::vector<std::string> stack = {""};
  const std::regex cluster(R"re(^subgraph "cluster_(.+)" \{$)re");
  const std::regex node(R"re(^"((?:[^"\\]|\\.)*)" \[(.*)\];$)re");
  const std::regex edge(R"re(^"((?:[^"\\]|\\.)*)" -> "((?:[^"\\]|\\.)*)"( \[(.*)\])?;$)re");
  const std::regex style(R"re(^style=(.*);$)re");
  const auto lines = testing::Lines(text);
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    std::string line = lines[i];
    line.erase(0, line.find_first_not_of(' '));
    std::smatch s;
    if (std::regex_match(line, s, cluster)) {
      m.cluster_parent[s[1]] = stack.back();
      stack.push_back(s[1]);
    } else if (line == "}") {
      stack.pop_back();
    } else if (std::regex_match(line, s, edge)) {
      if (std::string(s[1]).rfind("[*]", 0) == 0) {
        ++m.initial_edges;
      } else {
        m.edges.emplace_back(std::string(s[1]) + " -> " + std::string(s[2]), s[4]);
      }
    } else if (std::regex_match(line, s, node)) {
      m.node_cluster[s[1]] = stack.back();
      m.node_attrs[s[1]] = s[2];
    } else if (std::regex_match(line, s, style)) {
      m.cluster_style[stack.back()] = s[1];
    }
  }
  EXPECT_EQ(stack.size(), 1u);
  EXPECT_EQ(lines.back(), "}");
  return m;
}

TEST(Dot, ClustersFollowTheNestingAndEdgesAttachToThem) {
  const auto d = Load("graph.yaml");
  ASSERT_NE(d, nullptr);
  const std::string text = RenderGraph(*d, GraphFormat::kDot);
  EXPECT_EQ(text.rfind("digraph \"graph-test\" {\n  compound=true;", 0), 0u) << text;
  const DotModel m = ReadDot(text);

  for (std::size_t i = 1; i < d->states.size(); ++i) {
    const StateSpec& s = d->states[i];
    const std::string parent = s.parent == kRootState ? "" : d->state(s.parent).id;
    if (s.children.empty()) {
      ASSERT_TRUE(m.node_cluster.count(s.id)) << s.id;
      EXPECT_EQ(m.node_cluster.at(s.id), parent) << s.id;
      EXPECT_EQ(m.node_attrs.at(s.id).find("doublecircle") != std::string::npos, s.kind == StateKind::kFinal)
          << s.id;
    } else {
      ASSERT_TRUE(m.cluster_parent.count(s.id)) << s.id << " is a cluster";
      EXPECT_EQ(m.cluster_parent.at(s.id), parent) << s.id;
      EXPECT_EQ(m.node_cluster.at(s.id), s.id) << "anchor of " << s.id << " sits inside it";
      EXPECT_EQ(m.cluster_style.at(s.id), s.kind == StateKind::kParallel ? "\"rounded,dashed\"" : "rounded");
    }
  }
  // One initial dot per compound state and the root; none for parallel states.
  int compounds = 1;
  for (const auto& s : d->states) compounds += s.kind == StateKind::kCompound && !s.id.empty();
  EXPECT_EQ(m.initial_edges, compounds);
  EXPECT_EQ(m.edges.size(), ExpectedArrows(*d));

  std::map<std::string, std::string> attrs;
  for (const auto& [e, a] : m.edges) attrs[e] += a + ";";
  EXPECT_THAT(attrs.at("start-here -> work.split"), HasSubstr("lhead=\"cluster_work.split\""));
  EXPECT_THAT(attrs.at("work.split -> end"), HasSubstr("ltail=\"cluster_work.split\""));
  EXPECT_THAT(attrs.at("work.split -> l2"), Not(HasSubstr("ltail"))) << "l2 is inside work.split";
  EXPECT_THAT(attrs.at("m1a -> m1b"), HasSubstr(R"(label="next [event.data.kind == \"fast\" and …]")"));
  EXPECT_THAT(attrs.at("r2 -> r2"), HasSubstr("style=dashed")) << "targetless";
}

TEST(Dot, GraphvizAcceptsTheOutputWhenInstalled) {
  // Graphviz is not a build dependency; where it is installed (developer machines), check the syntax.
  if (!std::filesystem::exists("/usr/bin/dot")) GTEST_SKIP() << "graphviz not installed";
  nurt::testing::TempDir dir;
  for (const char* fixture : {"graph.yaml", "order.yaml", "lead.yaml"}) {
    const auto d = Load(fixture);
    ASSERT_NE(d, nullptr);
    const std::string path = dir.File("g.dot");
    {
      std::FILE* f = std::fopen(path.c_str(), "w");
      ASSERT_NE(f, nullptr);
      const std::string text = RenderGraph(*d, GraphFormat::kDot);
      std::fwrite(text.data(), 1, text.size(), f);
      std::fclose(f);
    }
    std::FILE* p = popen(("/usr/bin/dot -Tsvg -o /dev/null '" + path + "' 2>&1").c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    EXPECT_EQ(pclose(p), 0) << fixture << ": " << out;
    EXPECT_EQ(out, "") << fixture;
  }
}

}  // namespace
}  // namespace nurt::dsl
