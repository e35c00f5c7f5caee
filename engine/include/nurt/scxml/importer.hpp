#pragma once
// nurt::scxml — turns a W3C SCXML document (datamodel="lua") into a nurt `kind: Machine` YAML
// document (docs/scxml.md). `nurt import scxml FILE.scxml` prints the result; the conformance
// runner (tests/conformance/) imports the W3C suite with it.
//
// The mapping: <state>/<parallel>/<final>/<history> become states of the same id; <transition>
// becomes an `on:` entry (eventless ones `always:`); <onentry>/<onexit> become `entry`/`exit`;
// <raise> -> emit, <send> -> send (delay, id, idlocation, namelist, param, content), <cancel> ->
// cancel, <assign> -> assign (or Lua for locations that are not field paths), <log> -> log, <if> ->
// if, <foreach> -> foreach, <script> -> lua, <data> -> the machine's `data:` (late binding:
// assigned on entry), <donedata> -> output. Lua expressions are rewritten for nurt: a data id `x`
// becomes `ctx.x`, `_event` becomes `event`, `_sessionid` becomes `instance_id()`, `_name` the
// machine name.
//
// What nurt cannot express yet is not dropped silently: each such element is listed in
// ImportResult::warnings (file:line: what) and, for executable content, replaced by a Lua
// `error(…)` so running it raises error.execution where the element was. The YAML always loads and
// draws.
//
// Thread-safety: the functions are reentrant.

#include <string>
#include <vector>

#include "nurt/core/result.hpp"

namespace nurt::scxml {

struct ImportOptions {
  std::string
      machine_name;  // "" = the <scxml name>, else the file name (lower-cased, e.g. "test147")
};

struct ImportResult {
  std::string yaml;  // a complete `apiVersion: nurt/v1, kind: Machine` document
  std::string machine_name;
  std::vector<std::string>
      warnings;  // "file:line: <element> is not supported: why", document order
};

// Errors: InvalidArgument "file:line: …" for a document that is not well-formed XML or not SCXML
// (root is not <scxml>, a datamodel other than lua), NotFound when the file cannot be read.
Result<ImportResult> ImportScxmlFile(const std::string& path, const ImportOptions& options = {});
Result<ImportResult> ImportScxmlText(const std::string& text, const std::string& file_name,
                                     const ImportOptions& options = {});

// The Lua rewriting applied to every expression and script (exposed for tests): `data_ids` are the
// names declared with <data> (and foreach item/index), which become ctx fields.
std::string RewriteLua(const std::string& code, const std::vector<std::string>& data_ids,
                       const std::string& machine_name);

}  // namespace nurt::scxml
