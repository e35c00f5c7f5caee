#include "temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace nurt::testing {

TempDir::TempDir() {
  std::string templ = std::filesystem::temp_directory_path().string() + "/nurt-test-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + templ);
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace nurt::testing
