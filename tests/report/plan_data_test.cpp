// The plan of `s2s experiment` on the user's data (--train, --valid, --test): which files each
// run reads, the subsets of train_size, the trainings decode axes share, and every child flag.
#include <gtest/gtest.h>

#include <algorithm>

#include "report/axis_values.h"
#include "report/plan.h"
#include "s2s/error.h"

namespace s2s::report {
namespace {

ExperimentOptions user_options(const std::string& grid) {
  ExperimentOptions o;
  o.grid = parse_grid(grid);
  o.out = "/x";
  o.train_file = "/d/train.csv";
  o.valid_file = "/d/valid.csv";
  o.test_file = "/d/test.csv";
  o.epochs = 3;
  o.cores = 2;
  return o;
}

std::vector<std::string> names(const std::vector<EvalSpec>& evals) {
  std::vector<std::string> out;
  for (const EvalSpec& e : evals) out.push_back(e.name);
  return out;
}

TEST(UserDataPlan, RunsTrainAndValidateOnTheGivenFiles) {
  const ExperimentOptions o = user_options("layers=1,2");
  const Plan plan = make_plan(o);
  ASSERT_EQ(plan.data.size(), 1u);
  EXPECT_EQ(plan.data[0].source, DataSpec::Source::File);
  EXPECT_EQ(plan.data[0].train_csv(), "/d/train.csv");
  EXPECT_EQ(plan.data[0].valid_csv(), "/d/valid.csv");
  ASSERT_EQ(plan.runs.size(), 2u);
  EXPECT_EQ(train_args(o, plan, plan.runs[1], false),
            (std::vector<std::string>{"train", "--train", "/d/train.csv", "--valid", "/d/valid.csv",
                                      "--out", "/x/l2", "--layers", "2", "--epochs", "3",
                                      "--threads", "1"}));
}

TEST(UserDataPlan, TrainSizeTrainsOnASubsetAndValidatesOnTheGivenFile) {
  const ExperimentOptions o = user_options("train_size=10,20");
  const Plan plan = make_plan(o);
  ASSERT_EQ(plan.data.size(), 2u);
  EXPECT_EQ(plan.data[1].source, DataSpec::Source::Subset);
  EXPECT_EQ(plan.data[1].train_size, 20);
  EXPECT_EQ(plan.data[1].train_csv(), "/x/data/n20/train.csv");
  EXPECT_EQ(plan.data[1].valid_csv(), "/d/valid.csv");
  const auto args = train_args(o, plan, plan.runs[0], false);
  EXPECT_EQ(std::vector<std::string>(args.begin(), args.begin() + 5),
            (std::vector<std::string>{"train", "--train", "/x/data/n10/train.csv", "--valid",
                                      "/d/valid.csv"}));
  EXPECT_EQ(std::count(args.begin(), args.end(), "--train-size"), 0);  // not a train flag
}

// Grid points that differ only in beam or length penalty are evaluations of one training.
TEST(UserDataPlan, DecodeAxesShareOneTraining) {
  const ExperimentOptions o = user_options("layers=1,2 beam=1,3 length_penalty=none,avg");
  const Plan plan = make_plan(o);
  ASSERT_EQ(plan.runs.size(), 2u);
  EXPECT_EQ(plan.runs[0].name, "l1");
  EXPECT_EQ(plan.runs[0].params, (RunParams{{"layers", "1"}}));
  ASSERT_EQ(plan.evals.size(), 8u);
  EXPECT_EQ(names(plan.evals),
            (std::vector<std::string>{"l1-beam1-lpnone", "l1-beam1-lpavg", "l1-beam3-lpnone",
                                      "l1-beam3-lpavg", "l2-beam1-lpnone", "l2-beam1-lpavg",
                                      "l2-beam3-lpnone", "l2-beam3-lpavg"}));
  for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(plan.evals[i].run, i / 4);
  const EvalSpec& e = plan.evals[6];
  EXPECT_EQ(e.search.beam, 3);
  EXPECT_EQ(e.search.length_penalty.to_string(), "none");
  EXPECT_EQ(e.result(plan.runs[1], Split::Test), "/x/l2/eval/test-beam3-lpnone.json");
  EXPECT_EQ(eval_args(o, plan, e, Split::Valid),
            (std::vector<std::string>{"eval", "--model", "/x/l2/best.pt", "--data", "/d/valid.csv",
                                      "--json", "--beam", "3", "--length-penalty", "none",
                                      "--threads", "1"}));
  EXPECT_EQ(eval_args(o, plan, e, Split::Test)[4], "/d/test.csv");
  // Decode axes never reach `s2s train`.
  for (const RunSpec& run : plan.runs)
    for (const std::string& arg : train_args(o, plan, run, false))
      EXPECT_TRUE(arg != "--beam" && arg != "--length-penalty") << arg;
}

TEST(UserDataPlan, AGridOfDecodeAxesOnlyTrainsOnce) {
  const Plan plan = make_plan(user_options("beam=1,5 length_penalty=wu:0.6"));
  ASSERT_EQ(plan.runs.size(), 1u);
  EXPECT_EQ(plan.runs[0].name, "run");
  EXPECT_EQ(names(plan.evals), (std::vector<std::string>{"beam1", "beam5"}));
  EXPECT_EQ(plan.evals[1].result(plan.runs[0], Split::Valid),
            "/x/run/eval/valid-beam5-lpwu0.6.json");
}

TEST(UserDataPlan, DecodeAxesNeedTheUsersData) {
  ExperimentOptions o;
  o.grid = parse_grid("layers=1 length_penalty=avg");
  o.out = "/x";
  try {
    make_plan(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(
                  "--grid: length_penalty is applied when trained models are evaluated on "
                  "--valid: give --train and --valid",
                  0),
              0u);
  }
}

// Every training axis (derived from the training configuration) reaches `s2s train` as its
// flag: a value other than the default for each, through the plan's child command.
TEST(UserDataPlan, EveryTrainingAxisBecomesItsTrainFlag) {
  const std::vector<RunParams> points = test::non_default_points();
  std::size_t covered = 0;
  for (const RunParams& point : points) {
    const ExperimentOptions o = user_options(test::grid_text(point));
    const Plan plan = make_plan(o);
    ASSERT_EQ(plan.runs.size(), 1u);
    const std::vector<std::string> args = train_args(o, plan, plan.runs[0], false);
    for (const auto& [key, value] : point) {
      const std::vector<std::string> flag = find_train_setting(key)->flag_args(value);
      EXPECT_NE(std::search(args.begin(), args.end(), flag.begin(), flag.end()), args.end())
          << key << "=" << value;
      EXPECT_NE(value, find_train_setting(key)->default_value) << key;
    }
    covered += point.size();
  }
  std::size_t axes = 0;
  for (const std::string& key : grid_keys()) axes += axis_kind(key) == AxisKind::Training;
  EXPECT_GE(covered, axes);
  EXPECT_GE(axes, 20u);
}

}  // namespace
}  // namespace s2s::report
