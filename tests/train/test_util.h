// Helpers for training tests: temp dirs, tiny data sets, running the CLI.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "s2s/csv.h"
#include "s2s/tasks.h"

namespace s2s::testing {

inline std::string temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("s2s_train_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Writes DIR/train.csv and DIR/valid.csv of the copy task with `length` digits.
inline void write_copy_task(const std::string& dir, int64_t train, int64_t valid,
                            int64_t length = 4) {
  TaskOptions options;
  options.length = length;
  const TaskSplit split = generate_task_split("copy", train, valid, options, 7);
  write_pairs_csv(dir + "/train.csv", split.train);
  write_pairs_csv(dir + "/valid.csv", split.valid);
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Run {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `ENV build/s2s ARGS` through the shell (ENV: assignments such as "A=1 B=2", or "").
inline Run run_cli_env(const std::string& env, const std::string& args) {
  const std::string cmd = env + " " + std::string(S2S_CLI_PATH) + " " + args + " 2>&1";
  Run r;
  FILE* pipe = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs `build/s2s ARGS` through the shell.
inline Run run_cli(const std::string& args) {
  return run_cli_env("", args);
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace s2s::testing
