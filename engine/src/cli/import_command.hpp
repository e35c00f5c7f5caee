#pragma once
// `nurt import scxml FILE.scxml [--name NAME]` (private to nurt_cli): prints the nurt YAML of an
// SCXML document (docs/scxml.md). The YAML is loaded with the DSL loader before it is printed, so
// what comes out validates; SCXML the DSL cannot express yet is listed on stderr as "file:line:
// warning: …".
//
// Exit status: 0 imported (possibly with warnings), 1 the file cannot be read or is not SCXML, or
// the result does not load (a bug: the message says so), 2 usage.

#include <ostream>
#include <string>
#include <vector>

namespace nurt::cli {

const char* ImportUsage();

int RunImportCommand(const std::vector<std::string>& args, const std::string& name,
                     std::ostream& out, std::ostream& err);

}  // namespace nurt::cli
