// The per-epoch record, the summary and the status: what the trainer writes reads back, and
// run directories written by earlier versions (docs/results, tests/fixtures) still read.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "s2s/run_record.h"

namespace s2s {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(EpochRecord, WritesEveryFieldAndReadsItBack) {
  EpochRecord m;
  m.epoch = 3;
  m.train_loss = 0.5;
  m.train_token_acc = 0.75;
  m.train_seq_acc = 0.25;
  m.valid_loss = 0.625;
  m.valid_token_acc = 0.5;
  m.valid_seq_acc = 0.125;
  m.epoch_seconds = 2;
  m.train_pairs_per_second = 1000;
  m.lr = 0.001;
  m.elapsed_seconds = 6;
  // Keys sorted, one line: the format metrics.jsonl has always had.
  EXPECT_EQ(m.to_json(),
            R"({"elapsed_seconds":6.0,"epoch":3,"epoch_seconds":2.0,"lr":0.001,"train_loss":0.5,)"
            R"("train_pairs_per_second":1000.0,"train_seq_acc":0.25,"train_token_acc":0.75,)"
            R"("valid_loss":0.625,"valid_seq_acc":0.125,"valid_token_acc":0.5})");
  const auto back = EpochRecord::parse(m.to_json());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->to_json(), m.to_json());
  // Tolerant: what a line lacks is NaN.
  const auto sparse = EpochRecord::parse(R"({"epoch": 2, "valid_loss": 1.5})");
  ASSERT_TRUE(sparse);
  EXPECT_DOUBLE_EQ(sparse->valid_loss, 1.5);
  EXPECT_TRUE(std::isnan(sparse->train_pairs_per_second));
  EXPECT_FALSE(EpochRecord::parse(R"({"epoch": -1})"));
  EXPECT_FALSE(EpochRecord::parse(R"({"epoch": 1.5})"));
}

TEST(RunSummary, TheTrainersSummaryReadsBack) {
  RunSummary s;
  s.status = RunStatus::EarlyStopping;
  s.epochs_completed = 9;
  s.best_epoch = 6;
  EpochRecord best;
  best.epoch = 6;
  best.valid_seq_acc = 0.99;
  s.best_metrics = best;
  s.min_valid_loss_epoch = 5;
  s.total_seconds = 12.5;
  const auto j = nlohmann::json::parse(s.to_json());
  EXPECT_EQ(j["stop_reason"], "early_stopping");
  EXPECT_TRUE(j["overfitting_epoch"].is_null());
  const auto back = RunSummary::parse(s.to_json());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, RunStatus::EarlyStopping);
  EXPECT_EQ(back->best_epoch, 6);
  EXPECT_EQ(back->epochs_completed, 9);
  ASSERT_TRUE(back->best_metrics);
  EXPECT_DOUBLE_EQ(back->best_metrics->valid_seq_acc, 0.99);
  EXPECT_FALSE(back->overfit_epoch);
  EXPECT_EQ(back->total_seconds, 12.5);
  EXPECT_EQ(back->to_json(), s.to_json());
  EXPECT_FALSE(RunSummary::parse("[]"));
  EXPECT_FALSE(RunSummary::parse("{\"stop_reason\": "));
}

TEST(RunSummary, OtherWritersWordsAndFieldNames) {
  EXPECT_EQ(parse_stop_reason("patience"), RunStatus::EarlyStopping);
  EXPECT_EQ(parse_stop_reason("overfitting"), RunStatus::EarlyStopping);
  EXPECT_EQ(parse_stop_reason("nan_loss"), RunStatus::NonFiniteLoss);
  EXPECT_EQ(parse_stop_reason("error"), RunStatus::Interrupted);
  EXPECT_EQ(parse_stop_reason("max_epochs"), RunStatus::Completed);
  const auto s = RunSummary::parse(R"({"overfit_epoch": 7, "best_epoch": 9})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->overfit_epoch, 7);
  EXPECT_EQ(s->status, RunStatus::Completed);  // a summary without a reason: it ended
  EXPECT_FALSE(RunSummary::parse(R"({"overfitting_epoch": 0})")->overfit_epoch);
  for (RunStatus st : {RunStatus::NotStarted, RunStatus::Running, RunStatus::Completed,
                       RunStatus::EarlyStopping, RunStatus::Interrupted, RunStatus::NonFiniteLoss})
    EXPECT_EQ(parse_stop_reason(to_string(st)), st) << to_string(st);
  EXPECT_TRUE(has_ended(RunStatus::NonFiniteLoss));
  EXPECT_FALSE(has_ended(RunStatus::Interrupted));
  EXPECT_FALSE(has_ended(RunStatus::Running));
}

// The committed first course study (docs/results/course/60-epochs/runs) and the fixtures, as
// written by earlier versions of the trainer (and by a fixture script), read through today's types.
TEST(RunFiles, OldRunDirectoriesStillRead) {
  const fs::path course = fs::path(S2S_SOURCE_DIR) / "docs/results/course/60-epochs/runs";
  int runs = 0;
  for (const auto& entry : fs::directory_iterator(course)) {
    ++runs;
    const fs::path dir = entry.path();
    const auto summary = read_summary(dir);
    ASSERT_TRUE(summary) << dir;
    EXPECT_TRUE(has_ended(summary->status)) << dir;
    ASSERT_TRUE(summary->best_epoch) << dir;
    ASSERT_TRUE(summary->best_metrics) << dir;
    EXPECT_EQ(summary->best_metrics->epoch, *summary->best_epoch) << dir;
    EXPECT_GT(summary->best_metrics->valid_seq_acc, 0.5) << dir;
    const TrainConfig config =
        TrainConfig::from_json(read_text(dir / run_files::kConfig), dir.string());
    EXPECT_EQ(config.cell, Cell::GRU) << dir;
    EXPECT_EQ(config.lr_schedule, LrSchedule::Exponential) << dir;  // before --lr-schedule
    std::ifstream metrics(dir / run_files::kMetrics);
    int lines = 0;
    for (std::string line; std::getline(metrics, line); ++lines)
      EXPECT_TRUE(EpochRecord::parse(line)) << dir << ": " << line;
    EXPECT_EQ(lines, *summary->epochs_completed) << dir;
  }
  EXPECT_EQ(runs, 6);
  const fs::path fixtures = fs::path(S2S_FIXTURES_DIR) / "runs";
  EXPECT_EQ(read_status(fixtures / "gru_h256"), RunStatus::EarlyStopping);
  EXPECT_EQ(read_status(fixtures / "lstm_h256"), RunStatus::Completed);
  EXPECT_EQ(read_status(fixtures / "rnn_h128"), RunStatus::Running);  // no summary yet
  EXPECT_EQ(read_status(fixtures / "no-such-run"), RunStatus::NotStarted);
}

}  // namespace
}  // namespace s2s
