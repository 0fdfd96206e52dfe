// Helpers of the distributed CLI tests: ranks of `s2s train` as real processes, their runs'
// files, and the comparison of two runs' training.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "s2s/checkpoint.h"
#include "support/run_command.h"
#include "train/test_util.h"

namespace s2s::testing {

// The exit status, or -1 when the process had not ended after `limit` seconds (then it is
// killed: a hang must fail the test, not stall the suite).
inline int exit_within(pid_t pid, int limit = 60) {
  int status = 0;
  for (int i = 0; i < limit * 20; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

// A tiny model's run on DIR's copy task (fixed length: every rank's batch has as many tokens).
inline std::vector<std::string> tiny_run(const std::string& dir, const std::string& out, int batch,
                                         int epochs) {
  return {"train",
          "--train",
          dir + "/train.csv",
          "--valid",
          dir + "/valid.csv",
          "--out",
          out,
          "--layers",
          "1",
          "--hidden",
          "16",
          "--dropout",
          "0",
          "--threads",
          "1",
          "--epochs",
          std::to_string(epochs),
          "--batch",
          std::to_string(batch),
          "--log-every",
          "2"};
}

inline std::vector<std::string> as_rank(std::vector<std::string> args, int rank, int world,
                                        int port, int timeout = 20) {
  args.insert(args.end(), {"--world-size", std::to_string(world), "--rank", std::to_string(rank),
                           "--init", "tcp://127.0.0.1:" + std::to_string(port), "--dist-timeout",
                           std::to_string(timeout)});
  return args;
}

// Runs the ranks of one job to the end; returns their exit codes.
inline std::vector<int> run_job(const std::vector<std::vector<std::string>>& ranks,
                                const std::string& dir) {
  std::vector<pid_t> pids;
  for (size_t r = 0; r < ranks.size(); ++r) {
    pids.push_back(s2s::test::spawn_cli(ranks[r], dir + "/rank" + std::to_string(r) + ".log"));
  }
  std::vector<int> codes;
  for (pid_t pid : pids) codes.push_back(exit_within(pid));
  return codes;
}

inline std::vector<nlohmann::json> metrics_of(const std::string& run) {
  std::vector<nlohmann::json> out;
  for (const auto& line : lines_of(read_text(run + "/metrics.jsonl"))) {
    out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

inline void expect_same_training(const std::string& a, const std::string& b) {
  const auto ma = metrics_of(a), mb = metrics_of(b);
  ASSERT_EQ(ma.size(), mb.size());
  ASSERT_FALSE(ma.empty());
  for (size_t e = 0; e < ma.size(); ++e) {
    for (const char* key : {"train_loss", "valid_loss", "train_token_acc", "valid_token_acc"}) {
      EXPECT_NEAR(ma[e][key].get<double>(), mb[e][key].get<double>(), 2e-5)
          << key << " epoch " << e + 1;
    }
  }
  const auto pa = s2s::load_checkpoint(a + "/last.pt").model->named_parameters();
  const auto pb = s2s::load_checkpoint(b + "/last.pt").model->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& item : pa) {
    EXPECT_TRUE(at::allclose(item.value(), pb[item.key()], 1e-4, 1e-5)) << item.key();
  }
}

}  // namespace s2s::testing
