// Runs a shell command line and returns its exit status and standard output, for tests that
// drive the s2s CLI (or an example program) as a separate process. S2S_CLI_PATH comes from
// s2s_add_test (tests/CMakeLists.txt).
#pragma once

#include <spawn.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace s2s::test {

struct CommandResult {
  int exit_code = -1;  // the process's exit status; -1 if it did not exit normally
  std::string out;     // its standard output (stderr is left alone unless the line redirects it)
};

inline CommandResult run_command(const std::string& command_line) {
  std::FILE* pipe = popen(command_line.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + command_line);
  CommandResult result;
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.out.append(buffer.data(), n);
  }
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Runs build/s2s ARGS (shell syntax) with stderr merged into stdout, as a user sees it.
inline CommandResult run_cli(const std::string& args) {
  return run_command(std::string(S2S_CLI_PATH) + " " + args + " 2>&1");
}

// Starts build/s2s ARGS (shell words) in the background with stdout and stderr in `log`, for
// tests that signal, kill or race a running command; returns its pid (waitpid it). `wrapper`:
// words that run it (e.g. `ip netns exec NS env VAR=value`); the pid is then the wrapper's,
// which execs s2s in its place.
inline pid_t spawn_cli(const std::vector<std::string>& args, const std::string& log,
                       const std::vector<std::string>& wrapper = {}) {
  std::string cmd = "exec";
  for (const auto& w : wrapper) cmd += " " + w;
  cmd += " " + std::string(S2S_CLI_PATH);
  for (const auto& a : args) cmd += " " + a;
  std::vector<std::string> all{"/bin/sh", "-c", cmd + " > " + log + " 2>&1"};
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), environ) != 0) {
    throw std::runtime_error("posix_spawn failed: " + cmd);
  }
  return pid;
}

}  // namespace s2s::test
