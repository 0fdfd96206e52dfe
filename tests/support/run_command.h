// Runs a shell command line and returns its exit status and standard output, for tests that
// drive the s2s CLI (or an example program) as a separate process. S2S_CLI_PATH comes from
// s2s_add_test (tests/CMakeLists.txt).
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <stdexcept>
#include <string>

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

}  // namespace s2s::test
