#include "cli/import_command.hpp"

#include "nurt/dsl/loader.hpp"
#include "nurt/scxml/importer.hpp"

namespace nurt::cli {

const char* ImportUsage() {
  return "  import scxml FILE [--name NAME]       print an SCXML document as nurt YAML "
         "(docs/scxml.md);\n"
         "                                        unsupported parts as warnings on stderr\n";
}

int RunImportCommand(const std::vector<std::string>& args, const std::string& name,
                     std::ostream& out, std::ostream& err) {
  if (args.size() != 2 || args[0] != "scxml") {
    err << "nurt import: write `nurt import scxml FILE.scxml` (SCXML is the only format)\n\n"
        << ImportUsage();
    return 2;
  }
  scxml::ImportOptions options;
  options.machine_name = name;
  auto imported = scxml::ImportScxmlFile(args[1], options);
  if (!imported.ok()) {
    err << "nurt import: " << imported.status().message() << "\n";
    return 1;
  }
  for (const auto& w : imported->warnings) {
    const auto colon = w.find(": ");
    err << w.substr(0, colon) << ": warning: " << w.substr(colon + 2) << "\n";
  }
  const dsl::LoadResult loaded =
      dsl::LoadMachineText(imported->yaml, imported->machine_name + ".yaml");
  if (!loaded.definition) {
    err << "nurt import: the YAML made from " << args[1]
        << " does not load (a bug in the importer; please report it with the file):\n";
    for (const auto& d : loaded.diagnostics) err << "  " << d.ToString() << "\n";
    return 1;
  }
  out << imported->yaml;
  return 0;
}

}  // namespace nurt::cli
