// `nurt` — thin main: everything lives in nurt::cli (engine/src/cli).
#include <iostream>

#include "nurt/cli/cli.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return nurt::cli::RunCli(args, nurt::cli::CliEnvironment::FromProcess(), std::cout, std::cerr);
}
