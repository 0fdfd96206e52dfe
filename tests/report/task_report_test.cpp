// The report of an experiment on the user's data: the ranking by --metric, the table in that
// order, and the best configuration's commands.
#include <gtest/gtest.h>

#include "report/metric.h"
#include "report/task_report.h"
#include "s2s/error.h"

namespace s2s::report {
namespace {

EvalNumbers numbers(double ser, double ter, double exact, double token_acc, double loss) {
  EvalNumbers n;
  n.sentence_error_rate = ser;
  n.token_error_rate = ter;
  n.exact_match = exact;
  n.token_acc = token_acc;
  n.loss = loss;
  return n;
}

class TaskReport : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.grid = parse_grid("hidden=8,16 beam=1,4 bidirectional=true");
    options_.out = "/x";
    options_.train_file = "/d/my train.csv";
    options_.valid_file = "/d/valid.csv";
    options_.test_file = "/d/test.csv";
    options_.epochs = 5;
    options_.cores = 2;
    options_.command = "s2s experiment ...";
    plan_ = make_plan(options_);
    ASSERT_EQ(plan_.evals.size(), 4u);  // h8-beam1, h8-beam4, h16-beam1, h16-beam4
    for (const EvalSpec& e : plan_.evals) {
      TaskRow row;
      row.eval = &e;
      row.run.spec = &plan_.runs[e.run];
      row.run.result.status = RunStatus::Completed;
      rows_.push_back(row);
    }
    rows_[0].valid = numbers(0.30, 0.10, 0.70, 0.90, 0.5);
    rows_[1].valid = numbers(0.20, 0.12, 0.70, 0.90, 0.5);  // best by sentence error rate
    rows_[2].valid = numbers(0.25, 0.05, 0.75, 0.95, 0.4);  // best by the others
    // rows_[3]: not evaluated yet
  }
  ExperimentOptions options_;
  Plan plan_;
  std::vector<TaskRow> rows_;
};

TEST_F(TaskReport, RanksByTheMetricOnValidThenUnevaluatedInGridOrder) {
  using V = std::vector<std::size_t>;
  EXPECT_EQ(rank_rows(rows_, Metric::SentenceErrorRate), (V{1, 2, 0, 3}));
  EXPECT_EQ(rank_rows(rows_, Metric::TokenErrorRate), (V{2, 0, 1, 3}));
  EXPECT_EQ(rank_rows(rows_, Metric::ExactMatch), (V{2, 0, 1, 3}));  // higher is better; ties
  EXPECT_EQ(rank_rows(rows_, Metric::TokenAcc), (V{2, 0, 1, 3}));    // keep grid order
  EXPECT_EQ(rank_rows(rows_, Metric::Loss), (V{2, 0, 1, 3}));
  rows_[0].test = numbers(0, 0, 1, 1, 0);  // the test set never ranks
  EXPECT_EQ(rank_rows(rows_, Metric::SentenceErrorRate), (V{1, 2, 0, 3}));
}

TEST_F(TaskReport, MetricNamesParseAndBadOnesNameTheFlag) {
  for (const std::string& name : metric_names()) EXPECT_EQ(to_string(parse_metric(name)), name);
  EXPECT_EQ(parse_metric("exact_match"), Metric::ExactMatch);
  try {
    parse_metric("wer");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "--metric: unknown metric 'wer' (known: sentence_error_rate, token_error_rate, "
              "exact_match, token_acc, loss)");
  }
}

TEST_F(TaskReport, BestCommandsTrainTheRunsFlagsAgainAndEvaluateWithItsDecoding) {
  EXPECT_EQ(best_commands(options_, plan_, plan_.evals[1]),
            "s2s train --train '/d/my train.csv' --valid /d/valid.csv --out /x/best --hidden 8 "
            "--bidirectional --epochs 5\n"
            "s2s eval --model /x/best/best.pt --data /d/test.csv --beam 4 --length-penalty none");
}

TEST_F(TaskReport, TableIsInRankOrderAndNamesTheBest) {
  TaskReportInput in;
  in.options = &options_;
  in.plan = &plan_;
  in.rows = rows_;
  const std::string md = render_task_report(in).markdown;
  const auto at = [&](const std::string& s) { return md.find(s); };
  EXPECT_NE(at("3 of 4 configurations evaluated (2 trainings"), std::string::npos);
  EXPECT_NE(at("| rank | run | hidden | bidirectional | beam | status | valid SER | valid TER | "
               "valid exact match | valid token acc | test SER | test TER | test exact match | "
               "test token acc | best epoch | epochs run | training time |"),
            std::string::npos);
  const auto first =
      at("| 1 | h8-beam4 | 8 | true | 4 | evaluated | 20.0% | 12.0% | 70.0% | "
         "90.0% | - | - | - | - |");
  const auto second = at("| 2 | h16-beam1 | 16 | true | 1 | evaluated | 25.0% |");
  const auto third = at("| 3 | h8-beam1 |");
  const auto last = at("| - | h16-beam4 | 16 | true | 4 | to evaluate |");
  ASSERT_NE(first, std::string::npos) << md;
  ASSERT_NE(second, std::string::npos);
  ASSERT_NE(third, std::string::npos);
  ASSERT_NE(last, std::string::npos);
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_LT(third, last);
  EXPECT_NE(at("Ranked by sentence_error_rate on valid (lower is better)"), std::string::npos);
  EXPECT_NE(at("h8-beam4: sentence_error_rate 20.0% on valid. Its model is /x/h8/best.pt"),
            std::string::npos);
  EXPECT_NE(at("```\n" + best_commands(options_, plan_, plan_.evals[1]) + "\n```"),
            std::string::npos);

  options_.metric = Metric::ExactMatch;
  const std::string by_exact = render_task_report(in).markdown;
  EXPECT_NE(by_exact.find("| 1 | h16-beam1 |"), std::string::npos);
  EXPECT_NE(by_exact.find("h16-beam1: exact_match 75.0% on valid"), std::string::npos);
}

}  // namespace
}  // namespace s2s::report
