// `s2s experiment --train --valid --test` end to end: with the stand-in s2s
// (fixtures/experiment/fake_s2s.sh) for what is trained and evaluated, on which files, and what
// the report ranks; with the real s2s for every grid axis reaching the trainer's configuration.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "report/axis_values.h"
#include "report/experiment.h"
#include "report/experiment_test_util.h"
#include "report/subset.h"
#include "report/task_report.h"
#include "s2s/csv.h"
#include "s2s/error.h"
#include "s2s/file_io.h"
#include "support/run_command.h"

namespace s2s::report {
namespace {
namespace fs = std::filesystem;

using test::lines_with;

const fs::path kTask = fs::path(S2S_FIXTURES_DIR) / "experiment/task";

class ExperimentOnData : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = fs::path(S2S_BINARY_DIR) / ("tmp-experiment-data-" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    calls_ = dir_ / "calls.txt";
    setenv("FAKE_S2S_CALLS", calls_.c_str(), 1);
    unsetenv("FAKE_S2S_FAIL");
    unsetenv("FAKE_S2S_SLEEP");
    options_.out = dir_ / "out";
    options_.train_file = kTask / "train.csv";
    options_.valid_file = kTask / "valid.csv";
    options_.test_file = kTask / "test.csv";
    options_.epochs = 3;
    options_.jobs = 1;
    options_.cores = 2;
    options_.command = "s2s experiment --train ...";
    options_.s2s = fs::path(S2S_FIXTURES_DIR) / "experiment/fake_s2s.sh";
  }
  std::string calls() { return fs::exists(calls_) ? read_file(calls_.string()) : ""; }
  fs::path dir_, calls_;
  ExperimentOptions options_;
};

TEST_F(ExperimentOnData, TrainsOnTheFilesOnceAndEvaluatesEachDecodeSetting) {
  options_.grid = parse_grid("layers=1,2 train_size=10,20 beam=1,2");
  ASSERT_EQ(run_experiment(options_, nullptr), 0);
  const std::string c = calls();
  const fs::path out = options_.out;
  EXPECT_TRUE(lines_with(c, "start gen").empty());  // nothing generated
  const auto trains = lines_with(c, "start train");
  ASSERT_EQ(trains.size(), 4u);  // two beams, one training
  for (const char* run : {"l1-n10", "l1-n20", "l2-n10", "l2-n20"})
    EXPECT_EQ(
        lines_with(c, "start train --train " +
                          (out / "data" / (std::string("n") + (run + 4)) / "train.csv").string() +
                          " --valid " + options_.valid_file.string() + " --out " +
                          (out / run).string() + " ")
            .size(),
        1u)
        << run;
  // The subsets: the seeded rows of --train, the smaller inside the larger.
  const Corpus all = read_pairs_csv(options_.train_file.string());
  const Corpus n10 = read_pairs_csv((out / "data/n10/train.csv").string());
  const Corpus n20 = read_pairs_csv((out / "data/n20/train.csv").string());
  ASSERT_EQ(n10.size(), 10u);
  ASSERT_EQ(n20.size(), 20u);
  const auto rows = subset_rows(all.size(), 20, 1);
  for (std::size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(n20.pair(i), all.pair(rows[i]));
    if (i < 10) {
      EXPECT_EQ(n10.pair(i), n20.pair(i));
    }
  }
  // Each run's best.pt on valid and test, once per beam.
  const auto evals = lines_with(c, "start eval");
  EXPECT_EQ(evals.size(), 16u);
  EXPECT_EQ(lines_with(c, "start eval --model " + (out / "l2-n20/best.pt").string() + " --data " +
                              options_.test_file.string() +
                              " --json --beam 2 --length-penalty none --threads 2")
                .size(),
            1u);
  EXPECT_TRUE(fs::exists(out / "l2-n20/eval/test-beam2-lpnone.json"));

  // The fake's sentence error rate is 0.5 / beam (+0.1 for 1 layer, +0.01 on test): the 2-layer
  // runs with beam 2 tie, and the first in grid order ranks first.
  const std::string md = read_file((out / "REPORT.md").string());
  EXPECT_NE(md.find("| 1 | l2-n10-beam2 | 2 | 10 | 2 | evaluated | 25.0% | 5.0% | 60.0% | 90.0% | "
                    "26.0% | 5.0% | 60.0% | 90.0% | 3 | 3 | 7s |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| 2 | l2-n20-beam2 |"), std::string::npos);
  EXPECT_NE(md.find("| 8 | l1-n20-beam1 |"), std::string::npos);
  EXPECT_NE(md.find("s2s train --train " + (out / "data/n10/train.csv").string() + " --valid " +
                    options_.valid_file.string() + " --out " + (out / "best").string() +
                    " --layers 2 --epochs 3\ns2s eval --model " + (out / "best/best.pt").string() +
                    " --data " + options_.test_file.string() + " --beam 2 --length-penalty none"),
            std::string::npos);

  // Again: every training and evaluation is done, nothing runs.
  fs::remove(calls_);
  ASSERT_EQ(run_experiment(options_, nullptr), 0);
  EXPECT_TRUE(lines_with(calls(), "start train").empty());
  EXPECT_TRUE(lines_with(calls(), "start eval").empty());
}

// A new decode value on finished runs evaluates them again; it trains nothing.
TEST_F(ExperimentOnData, ANewDecodeSettingOnlyEvaluates) {
  options_.grid = parse_grid("layers=2 beam=1");
  options_.test_file.clear();
  ASSERT_EQ(run_experiment(options_, nullptr), 0);
  EXPECT_EQ(lines_with(calls(), "start train").size(), 1u);
  fs::remove(calls_);
  options_.grid = parse_grid("layers=2 beam=1,3 length_penalty=none,avg");
  ASSERT_EQ(run_experiment(options_, nullptr), 0);
  const std::string c = calls();
  EXPECT_TRUE(lines_with(c, "start train").empty());
  EXPECT_EQ(lines_with(c, "start eval").size(), 3u);  // beam 1 with none was evaluated before
  EXPECT_EQ(lines_with(c, "--beam 1 --length-penalty none").size(), 0u);

  // A model trained further since its evaluations (best.pt newer) is evaluated again.
  fs::last_write_time(options_.out / "l2/best.pt",
                      fs::file_time_type::clock::now() + std::chrono::seconds(10));
  fs::remove(calls_);
  ASSERT_EQ(run_experiment(options_, nullptr), 0);
  EXPECT_TRUE(lines_with(calls(), "start train").empty());
  EXPECT_EQ(lines_with(calls(), "start eval").size(), 4u);
}

TEST_F(ExperimentOnData, AFailedEvaluationIsReportedAndRetriedAlone) {
  options_.grid = parse_grid("layers=2 beam=1,2");
  options_.test_file.clear();
  const fs::path model = options_.out / "l2/best.pt";
  setenv("FAKE_S2S_EVAL_FAIL", model.c_str(), 1);
  EXPECT_EQ(run_experiment(options_, nullptr), 1);
  unsetenv("FAKE_S2S_EVAL_FAIL");
  EXPECT_NE(read_file((options_.out / "REPORT.md").string())
                .find("| - | beam1 | 2 | 1 | eval failed (exit 4: eval: out of memory) |"),
            std::string::npos);
  fs::remove(calls_);
  ASSERT_EQ(run_experiment(options_, nullptr), 0);
  EXPECT_TRUE(lines_with(calls(), "start train").empty());
  EXPECT_EQ(lines_with(calls(), "start eval").size(), 2u);
  EXPECT_NE(read_file((options_.out / "REPORT.md").string()).find("| 1 | beam2 |"),
            std::string::npos);
}

TEST_F(ExperimentOnData, ARunWithoutBestCheckpointIsNotEvaluated) {
  options_.grid = parse_grid("layers=2");
  options_.test_file.clear();
  setenv("FAKE_S2S_FAIL", (options_.out / "l2").c_str(), 1);
  EXPECT_EQ(run_experiment(options_, nullptr), 1);  // the training fails: nothing to evaluate
  unsetenv("FAKE_S2S_FAIL");
  EXPECT_TRUE(lines_with(calls(), "start eval").empty());
  ASSERT_EQ(run_experiment(options_, nullptr), 0);
  fs::remove(options_.out / "l2/eval/valid-beam1-lpnone.json");
  fs::remove(options_.out / "l2/best.pt");
  fs::remove(calls_);
  EXPECT_EQ(run_experiment(options_, nullptr), 0);
  EXPECT_TRUE(lines_with(calls(), "start eval").empty());
  EXPECT_NE(read_file((options_.out / "REPORT.md").string()).find("no best.pt to evaluate"),
            std::string::npos);
}

// Every training axis, at a value other than its default, reaches the real trainer: the run's
// config.json (what `s2s train` made of its flags) holds it. The decode axes reach `s2s eval`.
TEST_F(ExperimentOnData, EveryAxisReachesTheRealTrainersConfiguration) {
  options_.s2s = S2S_CLI_PATH;
  options_.epochs = 0;  // the grid's epochs
  options_.cores = 1;
  const std::vector<RunParams> points = test::non_default_points();
  for (std::size_t i = 0; i < points.size(); ++i) {
    RunParams point = points[i];
    if (i == 0) point.insert(point.end(), {{"beam", "2"}, {"length_penalty", "wu:0.5"}});
    options_.grid = parse_grid(test::grid_text(point));
    options_.out = dir_ / ("out" + std::to_string(i));
    const int code = run_experiment(options_, nullptr);
    const Plan plan = make_plan(options_);
    ASSERT_EQ(plan.runs.size(), 1u);
    const RunSpec& run = plan.runs[0];
    if (code != 0 && param_or(point, "precision", "") == "bf16" &&
        read_file(run.log.string()).find("bf16") != std::string::npos)
      GTEST_SKIP() << "no bf16 RNN on this CPU: " << read_file(run.log.string());
    ASSERT_EQ(code, 0) << test::grid_text(point) << "\n" << read_file(run.log.string());
    const TrainConfig config =
        TrainConfig::from_json(read_file((run.dir / "config.json").string()), "config.json");
    for (const auto& [key, value] : params_of_kind(point, AxisKind::Training))
      EXPECT_EQ(setting_text(config, key), value) << key;
    const EvalSpec& eval = plan.evals.at(0);
    ASSERT_TRUE(EvalNumbers::parse(read_file(eval.result(run, Split::Test).string())));
    if (i == 0) {
      const std::string answer = read_file(eval.log(run, Split::Valid).string());
      EXPECT_NE(answer.find("\"beam\":2"), std::string::npos) << answer;
      EXPECT_NE(answer.find("\"length_penalty\":\"wu:0.5\""), std::string::npos) << answer;
    }
    EXPECT_NE(read_file((options_.out / "REPORT.md").string()).find("| 1 | "), std::string::npos);
  }
}

TEST(ExperimentOnDataCli, BadFlagsAndGridsAreOneLineErrors) {
  const std::string train = (kTask / "train.csv").string();
  const std::string valid = (kTask / "valid.csv").string();
  const std::string out = std::string(S2S_BINARY_DIR) + "/tmp-experiment-data-cli";
  const auto check = [](const std::string& args, const std::string& message) {
    const s2s::test::CommandResult r = s2s::test::run_cli("experiment " + args);
    EXPECT_EQ(r.out, "s2s: error: " + message + "\n") << args;
    EXPECT_EQ(r.exit_code, 2) << args;
  };
  check("--grid layers=1 --train " + train + " --out " + out,
        "experiment: --train and --valid go together (the runs validate on --valid)");
  check("--grid layers=1 --test " + valid + " --out " + out,
        "experiment: --test needs --train and --valid");
  check("--grid layers=1 --train " + train + " --valid " + valid + " --metric wer --out " + out,
        "--metric: unknown metric 'wer' (known: sentence_error_rate, token_error_rate, "
        "exact_match, token_acc, loss)");
  check("--grid 'layers=1 bidirectional=maybe' --train " + train + " --valid " + valid + " --out " +
            out,
        "--grid 'bidirectional=maybe': bidirectional must be true or false, got 'maybe'");
  check("--grid 'train_size=10,100' --train " + train + " --valid " + valid + " --out " + out,
        "--grid 'train_size=100': " + train + " has only 40 rows");
  check("--grid 'layers=1' --train /nonexistent.csv --valid " + valid + " --out " + out,
        "/nonexistent.csv: cannot open: No such file or directory");
}

}  // namespace
}  // namespace s2s::report
