#include "cli/serve_command.hpp"

#include <pthread.h>
#include <signal.h>

#include "nurt/daemon/daemon.hpp"
#include "nurt/env/file_system.hpp"

namespace nurt::cli {

int RunServe(const std::string& config_path, const std::map<std::string, std::string>& environment,
             std::ostream& out, std::ostream& err) {
  std::string text;
  if (!config_path.empty()) {
    auto read = env::LocalFileSystem()->ReadFile(config_path);
    if (!read.ok()) {
      err << "nurt serve: cannot read the configuration " << config_path << ": " << read.status().message()
          << "\n";
      return 1;
    }
    text = std::move(read).value();
  }
  auto config = server::ParseDaemonConfig(text, config_path.empty() ? "(defaults)" : config_path, environment);
  if (!config.ok()) {
    err << "nurt serve: " << config.status().message() << "\n";
    return 1;
  }

  // Block the shutdown signals before any thread starts, so every thread inherits the mask and they are
  // delivered only to sigwait below, never into the middle of a request.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto daemon = daemon::Daemon::Start(*config);
  if (!daemon.ok()) {
    err << "nurt serve: " << daemon.status().message() << "\n";
    return 1;
  }
  out << "nurt: listening on http://" << config->listen_address << ":" << (*daemon)->port()
      << " (store " << config->sqlite_path << "); SIGTERM or Ctrl-C stops it gracefully" << std::endl;
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  (*daemon)->Shutdown();
  (*daemon)->Wait();
  out << "nurt: stopped after " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM") << std::endl;
  return 0;
}

}  // namespace nurt::cli
