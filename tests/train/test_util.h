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
#include "s2s/run_record.h"
#include "s2s/tasks.h"
#include "s2s/trainer.h"

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

// A configuration training on write_copy_task's files in DIR into DIR/run; other fields default.
inline TrainConfig config_for_dir(const std::string& dir) {
  TrainConfig c;
  c.train = dir + "/train.csv";
  c.valid = dir + "/valid.csv";
  c.out = dir + "/run";
  return c;
}

// Options of train() in a test process: no signal handling (the test runner keeps its own);
// resuming() continues the run in config.out.
inline TrainOptions quietly() {
  TrainOptions o;
  o.handle_signals = false;
  return o;
}

inline TrainOptions resuming() {
  TrainOptions o = quietly();
  o.resume = true;
  return o;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace s2s::testing
