// The report generator on fixture runs (tests/fixtures/experiment/course_runs, made by
// make_course_runs.py): its table must show exactly the fixtures' numbers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "report/course_reference.h"
#include "report/experiment.h"
#include "report/report.h"

namespace s2s::report {
namespace {

const std::filesystem::path kRuns =
    std::filesystem::path(S2S_FIXTURES_DIR) / "experiment/course_runs";

// Line of the markdown that starts with `prefix`, or "".
std::string line_starting(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) return line;
  return "";
}

class ReportOnFixtures : public ::testing::Test {
 protected:
  void SetUp() override {
    // The fixtures are runs of the course's study as it was first sized: the course's own 2800
    // and 14000 pairs, 60 epochs, patience 10 (docs/results/course/60-epochs/).
    options_ = course_options(kRuns);
    options_.grid_text =
        "cell=gru hidden=256 layers=1,4 dropout=0,0.8 lr=0.001 lr_decay=1 train_size=2800,14000";
    options_.grid = parse_grid(options_.grid_text);
    options_.epochs = 60;
    options_.patience = 10;
    options_.course_data_scale = 1;
    options_.cores = 2;
    options_.command = "s2s experiment course --out fixtures";
    plan_ = make_plan(options_);
    input_.title = "course";
    input_.command = options_.command;
    input_.budget = "test budget";
    input_.machine = "test machine";
    input_.updated = "2026-11-27 14:00 UTC";
    for (const RunSpec& r : plan_.runs) input_.runs.push_back({&r, load_result(r.dir), ""});
    for (const PlotGroup& g : plot_groups(plan_)) input_.plots.push_back({g, false, ""});
  }
  ExperimentOptions options_;
  Plan plan_;
  ReportInput input_;
};

TEST_F(ReportOnFixtures, LoadsBestAndOverfittingEpochsFromTheRunDirectories) {
  const RunResult r = load_result(kRuns / "l4-d0.8-n2800");
  EXPECT_EQ(r.status, RunStatus::EarlyStopping);
  EXPECT_FALSE(r.resumable);
  EXPECT_EQ(r.epochs.size(), 35u);
  EXPECT_EQ(r.best_epoch, 27);     // the summary's best (sequence accuracy)...
  EXPECT_EQ(r.overfit_epoch, 25);  // ...differs from the lowest validation loss
  ASSERT_TRUE(r.best.has_value());
  EXPECT_DOUBLE_EQ(r.best->valid_seq_acc, 0.812);
  EXPECT_DOUBLE_EQ(r.best->valid_token_acc, 0.906);
  EXPECT_DOUBLE_EQ(r.wall_seconds, 53.0);  // summary's total_seconds, not the sum of epochs
  EXPECT_EQ(r.stop_reason, "early_stopping");
  EXPECT_EQ(load_result(kRuns / "l1-d0-n14000").overfit_epoch, std::nullopt);
  EXPECT_EQ(load_result(kRuns / "l4-d0-n14000").overfit_epoch, 20);
}

TEST_F(ReportOnFixtures, TableRowsMatchTheFixtures) {
  const Report report = render_report(input_);
  const std::string& md = report.markdown;
  EXPECT_EQ(line_starting(md, "| run |"),
            "| run | cell | hidden | layers | dropout | lr | lr_decay | train pairs | status | "
            "best valid seq acc "
            "| valid token acc | best epoch | overfit epoch | epochs run | wall time | course: "
            "overfits at | course: accuracy |");
  EXPECT_EQ(line_starting(md, "| l1-d0-n2800 |"),
            "| l1-d0-n2800 | gru | 256 | 1 | 0 | 0.001 | 1 | 2800 | finished (early_stopping) | "
            "60.0% | 80.0% | 30 "
            "| 30 | 40 | 21s | ~1900 | ~60.0% |");
  EXPECT_EQ(line_starting(md, "| l4-d0-n2800 |"),
            "| l4-d0-n2800 | gru | 256 | 4 | 0 | 0.001 | 1 | 2800 | finished (early_stopping) | "
            "58.0% | 79.0% | 12 "
            "| 12 | 22 | 34s | ~600 | ~58.0% |");
  EXPECT_EQ(line_starting(md, "| l4-d0.8-n2800 |"),
            "| l4-d0.8-n2800 | gru | 256 | 4 | 0.8 | 0.001 | 1 | 2800 | finished (early_stopping) "
            "| 81.2% | 90.6% "
            "| 27 | 25 | 35 | 53s | ~1700 | ~81.2% |");
  EXPECT_EQ(line_starting(md, "| l1-d0-n14000 |"),
            "| l1-d0-n14000 | gru | 256 | 1 | 0 | 0.001 | 1 | 14000 | finished (completed) | 75.0% "
            "| 87.5% | "
            "40 | none | 40 | 1m41s | - | - |");
  EXPECT_EQ(line_starting(md, "| l4-d0-n14000 |"),
            "| l4-d0-n14000 | gru | 256 | 4 | 0 | 0.001 | 1 | 14000 | finished (early_stopping) | "
            "90.0% | 95.0% | "
            "20 | 20 | 30 | 3m46s | - | - |");
  EXPECT_EQ(
      line_starting(md, "| l4-d0.8-n14000 |")
          .rfind(
              "| l4-d0.8-n14000 | gru | 256 | 4 | 0.8 | 0.001 | 1 | 14000 | finished (completed) | "
              "99.7% |",
              0),
      0u);
  EXPECT_NE(line_starting(md, "| l4-d0.8-n14000 |")
                .find("| 40 | none | 40 | 5m01s | does not overfit | ~99.7% |"),
            std::string::npos);
  EXPECT_EQ(line_starting(md, "6 of 6 runs finished"),
            "6 of 6 runs finished; 12m14s of training so far (all runs). Updated 2026-11-27 "
            "14:00 UTC. Machine: test machine.");
}

TEST_F(ReportOnFixtures, ConclusionsAreJudgedFromTheFixtureNumbers) {
  const std::string md = render_report(input_).markdown;
  EXPECT_NE(md.find("### Supported: Dropout delays overfitting\n\nSupported: 2 of 2 comparisons"),
            std::string::npos);
  EXPECT_NE(md.find("- l4-d0.8-n14000 does not overfit in 40 epochs vs l4-d0-n14000 overfits at "
                    "epoch 20: supports"),
            std::string::npos);
  EXPECT_NE(md.find("### Supported: More data raises accuracy\n\nSupported: 3 of 3"),
            std::string::npos);
  EXPECT_NE(md.find("### Supported: Too deep without dropout overfits sooner\n\nSupported: 2 of 2"),
            std::string::npos);
}

TEST_F(ReportOnFixtures, CurvesAreGroupedAsTheCourseGroupsThem) {
  ASSERT_EQ(input_.plots.size(), 5u);  // 2 model charts (one per data size) + 3 data charts
  EXPECT_EQ(input_.plots[0].group.kind, "Model size and dropout");
  EXPECT_EQ(input_.plots[0].group.file, "plots/model-n2800.png");
  EXPECT_EQ(input_.plots[0].group.runs, (std::vector<std::size_t>{0, 2, 4}));
  EXPECT_EQ(input_.plots[2].group.kind, "Dataset size");
  EXPECT_EQ(input_.plots[2].group.file, "plots/data-l1-d0.png");
  EXPECT_EQ(input_.plots[4].group.title, "layers 4, dropout 0.8");
  input_.plots[0].made = true;
  input_.plots[1].error = "`s2s plot` exit 2: no such command";
  const Report report = render_report(input_);
  EXPECT_NE(report.markdown.find("![2800 training pairs: l1-d0-n2800, l4-d0-n2800, "
                                 "l4-d0.8-n2800](plots/model-n2800.png)"),
            std::string::npos);
  EXPECT_NE(report.markdown.find("14000 training pairs: l1-d0-n14000, l4-d0-n14000, "
                                 "l4-d0.8-n14000 (chart not made: `s2s plot` exit 2: no such "
                                 "command)"),
            std::string::npos);
  EXPECT_NE(report.html.find("<img src=\"plots/model-n2800.png\""), std::string::npos);
  EXPECT_NE(
      report.html.find(
          "<td>l4-d0-n2800</td><td>gru</td><td>256</td><td>4</td><td>0</td><td>0.001</td><td>1</td>"
          "<td>2800</td><td>finished (early_stopping)</td><td>58.0%</td>"),
      std::string::npos);
}

TEST_F(ReportOnFixtures, EachClaimShowsTheChartsOfThePairsItCompared) {
  const std::vector<PlotGroup> pairs = pair_plot_groups(plan_);
  ASSERT_EQ(pairs.size(), 7u);  // 2 dropout pairs, 3 data pairs, 2 depth pairs
  EXPECT_EQ(pairs[0].kind, kComparedPairKind);
  EXPECT_EQ(pairs[0].title, "l4-d0-n2800 vs l4-d0.8-n2800");
  EXPECT_EQ(pairs[0].file, "plots/pair-l4-d0-n2800-vs-l4-d0.8-n2800.png");
  EXPECT_EQ(pairs[0].runs, (std::vector<std::size_t>{2, 4}));
  EXPECT_EQ(pairs[6].file, "plots/pair-l1-d0-n14000-vs-l4-d0-n14000.png");
  for (const PlotGroup& g : pairs) input_.plots.push_back({g, true, ""});
  input_.plots.back().made = false;  // not drawn (yet): not linked
  const std::string md = render_report(input_).markdown;

  const std::size_t claim = md.find("Dropout delays overfitting\n");
  ASSERT_NE(claim, std::string::npos);
  const std::string section = md.substr(claim, md.find("\n### ", claim) - claim);
  EXPECT_NE(section.find("![l4-d0-n2800 vs l4-d0.8-n2800](plots/pair-l4-d0-n2800-vs-l4-d0.8-"
                         "n2800.png)"),
            std::string::npos);
  EXPECT_NE(section.find("![l4-d0-n14000 vs l4-d0.8-n14000](plots/pair-l4-d0-n14000-vs-l4-d0.8-"
                         "n14000.png)"),
            std::string::npos);
  EXPECT_EQ(section.find("plots/pair-l1"), std::string::npos);  // depth's pairs are not dropout's
  EXPECT_EQ(md.find("plots/pair-l1-d0-n14000-vs-l4-d0-n14000.png"), std::string::npos);
  EXPECT_NE(md.find("plots/pair-l1-d0-n2800-vs-l4-d0-n2800.png"), std::string::npos);
  // The pair charts sit under the claims, not again among the curves.
  EXPECT_EQ(md.substr(md.find("## Curves")).find("plots/pair-"), std::string::npos);
}

TEST_F(ReportOnFixtures, TheCourseFiguresSitBesideRunsOnATenthOfItsData) {
  // The same runs read as a study on a tenth of the course's data: the course ran nothing on
  // 28000 pairs, so no 2800-pair row gets a figure, and the headers say the scale.
  input_.course_data_scale = 10;
  const std::string md = render_report(input_).markdown;
  EXPECT_NE(line_starting(md, "| run |")
                .find("| course (10x data): overfits at | course (10x data): accuracy |"),
            std::string::npos);
  EXPECT_NE(line_starting(md, "| l4-d0-n2800 |").find("| - | - |"), std::string::npos);
  EXPECT_NE(md.find("on 10x fewer pairs (the course's 2800 and 14000 pairs beside 280 and 1400)"),
            std::string::npos);
  // A 280-pair 4-layer run without dropout is the course's 2800-pair one.
  EXPECT_EQ(
      course_figure({{"layers", "4"}, {"dropout", "0"}, {"train_size", "280"}}, 10)->overfit_epoch,
      600);
  EXPECT_EQ(
      course_figure({{"layers", "4"}, {"dropout", "0.8"}, {"train_size", "1400"}}, 10)->seq_acc,
      0.997);
  EXPECT_FALSE(course_figure({{"layers", "4"}, {"dropout", "0"}, {"train_size", "560"}}, 10));
}

TEST(Report, WritesBothFilesAtomically) {
  const auto dir = std::filesystem::path(S2S_BINARY_DIR) / "tmp-report-write";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  write_report(dir, {"# md\n", "<html></html>\n"});
  std::ifstream md(dir / "REPORT.md"), html(dir / "REPORT.html");
  std::stringstream a, b;
  a << md.rdbuf();
  b << html.rdbuf();
  EXPECT_EQ(a.str(), "# md\n");
  EXPECT_EQ(b.str(), "<html></html>\n");
  EXPECT_FALSE(std::filesystem::exists(dir / "REPORT.md.tmp"));
}

TEST(RunResult, PartialAndMalformedMetricLinesAreSkipped) {
  const auto dir = std::filesystem::path(S2S_BINARY_DIR) / "tmp-report-metrics";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "metrics.jsonl")
      << "{\"epoch\": 1, \"valid_seq_acc\": 0.1, \"valid_loss\": 1.0}\n"
      << "garbage\n"
      << "{\"epoch\": 2, \"valid_seq_acc\": 0.3, \"valid_loss\": 0.5}\n"
      << "{\"epoch\": 3, \"valid_seq";  // being written
  const RunResult r = load_result(dir);
  EXPECT_EQ(r.status, RunStatus::Running);  // files, no summary, no checkpoint: starts again
  EXPECT_FALSE(r.resumable);
  ASSERT_EQ(r.epochs.size(), 2u);
  EXPECT_EQ(r.best_epoch, 2);  // no summary: the highest validation sequence accuracy
  std::ofstream(dir / "last.pt") << "x";
  EXPECT_TRUE(load_result(dir).resumable);
  // The trainer writes a summary when interrupted too: still to be resumed.
  std::ofstream(dir / "summary.json") << "{\"best_epoch\": 1, \"stop_reason\": \"interrupted\"}";
  EXPECT_EQ(load_result(dir).status, RunStatus::Interrupted);
  EXPECT_TRUE(load_result(dir).resumable);
  std::ofstream(dir / "summary.json")
      << "{\"best_epoch\": 1, \"stop_reason\": \"non_finite_loss\"}";
  EXPECT_EQ(load_result(dir).status, RunStatus::NonFiniteLoss);
  EXPECT_FALSE(load_result(dir).resumable);
  std::ofstream(dir / "summary.json") << "{\"best_epoch\": 1}";
  EXPECT_EQ(load_result(dir).status, RunStatus::Completed);
  EXPECT_EQ(load_result(dir).best_epoch, 1);
}

}  // namespace
}  // namespace s2s::report
