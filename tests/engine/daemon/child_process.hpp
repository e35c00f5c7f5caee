#pragma once
// Running the real `nurt` binary from a test: fork + execve with a given environment, its stdout on a
// pipe the test reads line by line.

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

namespace nurt::testing {

struct Child {
  pid_t pid = -1;
  FILE* out = nullptr;  // the child's stdout
};

inline Child Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  Child child;
  child.pid = fork();
  if (child.pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(fds[1]);
  child.out = fdopen(fds[0], "r");
  return child;
}

inline std::string ReadLine(FILE* f) {
  std::string line;
  for (int c; (c = fgetc(f)) != EOF && c != '\n';) line += static_cast<char>(c);
  return line;
}

}  // namespace nurt::testing
