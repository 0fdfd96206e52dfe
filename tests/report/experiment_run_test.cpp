// `s2s experiment` end to end with a stand-in for the s2s binary (fixtures/experiment/
// fake_s2s.sh), which records its calls: which runs start, resume or are skipped, how many at
// once, and what the report then says.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <signal.h>
#include <unistd.h>

#include "report/experiment.h"
#include "report/experiment_test_util.h"
#include "s2s/error.h"

namespace s2s::report {
namespace {
namespace fs = std::filesystem;

std::string read(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

using test::lines_with;

class ExperimentRun : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = fs::path(S2S_BINARY_DIR) / ("tmp-experiment-" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    calls_ = dir_ / "calls.txt";
    setenv("FAKE_S2S_CALLS", calls_.c_str(), 1);
    unsetenv("FAKE_S2S_FAIL");
    unsetenv("FAKE_S2S_SLEEP");
    options_.grid = parse_grid("layers=1,4 dropout=0,0.8 train_size=100,200");
    options_.out = dir_ / "out";
    options_.epochs = 3;
    options_.patience = 1;
    options_.jobs = 1;
    options_.cores = 2;
    options_.command = "s2s experiment --grid ...";
    options_.s2s = fs::path(S2S_FIXTURES_DIR) / "experiment/fake_s2s.sh";
  }
  std::string calls() { return read(calls_); }
  fs::path dir_, calls_;
  ExperimentOptions options_;
};

TEST_F(ExperimentRun, TrainsEveryRunOnceThenSkipsThemAll) {
  ASSERT_EQ(run_experiment(options_, nullptr), 0);
  const std::string first = calls();
  EXPECT_EQ(lines_with(first, "start gen zero-shift").size(), 2u);
  EXPECT_EQ(lines_with(first, "start gen zero-shift --train 200 --valid 40").size(), 1u);
  const auto trains = lines_with(first, "start train --train");
  ASSERT_EQ(trains.size(), 6u);
  const fs::path out = options_.out;
  EXPECT_EQ(trains[0], "start train --train " + (out / "data/n100/train.csv").string() +
                           " --valid " + (out / "data/n100/valid.csv").string() + " --out " +
                           (out / "l1-d0-n100").string() +
                           " --layers 1 --dropout 0 --epochs 3 --patience 1 --threads 2");
  EXPECT_FALSE(lines_with(first, "start plot").empty());

  const std::string md = read(out / "REPORT.md");
  EXPECT_NE(md.find("6 of 6 runs finished; 39s of training so far"), std::string::npos);
  EXPECT_NE(md.find("| l4-d0.8-n200 | 4 | 0.8 | 200 | finished (completed) | 40.0% | 60.0% | 3 | "
                    "none | 3 | 7s | - | - |"),
            std::string::npos);
  EXPECT_NE(md.find("![100 training pairs: l1-d0-n100, l4-d0-n100, l4-d0.8-n100](plots/"
                    "model-n100.png)"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(out / "REPORT.html"));

  fs::remove(calls_);
  ASSERT_EQ(run_experiment(options_, nullptr), 0);
  EXPECT_EQ(lines_with(calls(), "start train").size(), 0u);  // finished runs are skipped
  EXPECT_EQ(lines_with(calls(), "start gen").size(), 0u);    // so is existing data
}

TEST_F(ExperimentRun, ResumesInterruptedRunsAndSkipsFinishedOnes) {
  const fs::path out = options_.out;
  fs::create_directories(out / "l4-d0-n100");
  std::ofstream(out / "l4-d0-n100" / "last.pt") << "checkpoint";
  fs::create_directories(out / "l1-d0-n200");
  std::ofstream(out / "l1-d0-n200" / "summary.json") << "{\"best_epoch\": 1}";
  ASSERT_EQ(run_experiment(options_, nullptr), 0);
  const std::string c = calls();
  EXPECT_EQ(lines_with(c, "start train --train").size(), 5u);
  // A resumed run gets the flags of a fresh one (the trainer checks those that define the run
  // and applies the others, such as a larger --epochs), with --resume instead of --out.
  EXPECT_EQ(
      lines_with(c, "--resume"),
      (std::vector<std::string>{"start train --train " + (out / "data/n100/train.csv").string() +
                                " --valid " + (out / "data/n100/valid.csv").string() +
                                " --resume " + (out / "l4-d0-n100").string() +
                                " --layers 4 --dropout 0 --epochs 3 --patience 1 "
                                "--threads 2"}));
  for (const std::string& line : lines_with(c, "l1-d0-n200"))  // only charts name it
    EXPECT_EQ(line.rfind("start plot", 0), 0u) << line;
}

TEST_F(ExperimentRun, AFailedRunIsReportedAndTheOthersStillRun) {
  setenv("FAKE_S2S_FAIL", (options_.out / "l4-d0-n200").c_str(), 1);
  EXPECT_EQ(run_experiment(options_, nullptr), 1);
  EXPECT_EQ(lines_with(calls(), "end train").size(), 5u);
  const std::string md = read(options_.out / "REPORT.md");
  EXPECT_NE(
      md.find("| l4-d0-n200 | 4 | 0 | 200 | failed (exit 3: train: loss is NaN at epoch 2) |"),
      std::string::npos);
  EXPECT_NE(md.find("5 of 6 runs finished"), std::string::npos);
  // A rerun retries only the failed run.
  unsetenv("FAKE_S2S_FAIL");
  fs::remove(calls_);
  EXPECT_EQ(run_experiment(options_, nullptr), 0);
  EXPECT_EQ(lines_with(calls(), "start train"),
            (std::vector<std::string>{
                "start train --train " + (options_.out / "data/n200/train.csv").string() +
                " --valid " + (options_.out / "data/n200/valid.csv").string() + " --out " +
                (options_.out / "l4-d0-n200").string() +
                " --layers 4 --dropout 0 --epochs 3 --patience 1 --threads 2"}));
}

TEST_F(ExperimentRun, TwoJobsTrainTwoRunsAtOnceWithOneThreadEach) {
  options_.grid = parse_grid("layers=1,4 train_size=100");
  options_.jobs = 2;
  setenv("FAKE_S2S_SLEEP", "0.5", 1);
  ASSERT_EQ(run_experiment(options_, nullptr), 0);
  const auto events = lines_with(calls(), " train ");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].rfind("start train", 0), 0u);
  EXPECT_EQ(events[1].rfind("start train", 0), 0u);  // the second started before the first ended
  EXPECT_NE(events[0].find("--threads 1"), std::string::npos);
  EXPECT_NE(events[1].find("--threads 1"), std::string::npos);
}

TEST_F(ExperimentRun, RefusesARunDirectoryHoldingAnotherConfiguration) {
  fs::create_directories(options_.out / "l4-d0-n100");
  std::ofstream(options_.out / "l4-d0-n100" / "config.json") << "{\"layers\": 2, \"dropout\": 0}";
  try {
    run_experiment(options_, nullptr);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              (options_.out / "l4-d0-n100" / "config.json").string() +
                  ": holds a run with layers=2, this experiment wants layers=4; use another "
                  "--out or remove that directory");
  }
  EXPECT_FALSE(fs::exists(calls_));  // nothing was started
}

TEST(ExperimentCli, BadGridIsOneLineAndExitTwo) {
  const std::string cmd = std::string(S2S_CLI_PATH) +
                          " experiment --grid 'layers=1 dropout=0,x' --out /nonexistent 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[512] = {};
  const std::size_t n = fread(buf, 1, sizeof(buf) - 1, p);
  const int status = pclose(p);
  EXPECT_EQ(std::string(buf, n),
            "s2s: error: --grid 'dropout=0,x': dropout must be a number, got 'x'\n");
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

}  // namespace
}  // namespace s2s::report

namespace s2s::report {
namespace {

TEST_F(ExperimentRun, ASignalStopsTheRunningChildAndStartsNoMore) {
  options_.grid = parse_grid("layers=1,2,3 train_size=100");
  setenv("FAKE_S2S_SLEEP", "3", 1);
  // Stops the experiment once its first training has started, as a Ctrl-C would.
  std::thread stopper([this] {
    for (int i = 0; i < 600 && lines_with(calls(), "start train").empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    kill(getpid(), SIGTERM);
  });
  const int code = run_experiment(options_, nullptr);
  stopper.join();
  EXPECT_EQ(code, 130);
  EXPECT_EQ(lines_with(calls(), "start train").size(), 1u);  // the others never started
  EXPECT_EQ(lines_with(calls(), "end train").size(), 0u);    // the child was stopped
  const std::string md = read(options_.out / "REPORT.md");
  EXPECT_NE(md.find("| l1 | 1 | 100 | interrupted |"), std::string::npos);
  EXPECT_NE(md.find("| l2 | 2 | 100 | pending |"), std::string::npos);
}

}  // namespace
}  // namespace s2s::report
