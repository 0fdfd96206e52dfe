// Run discovery and loading on the fixture runs (tests/fixtures/runs, made by make_runs.py).
#include "s2s/runs.h"

#include <gtest/gtest.h>

#include <tuple>

#include <cmath>
#include <fstream>

#include "s2s/error.h"

namespace fs = std::filesystem;

namespace {

const fs::path kRuns = fs::path(S2S_FIXTURES_DIR) / "runs";

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(S2S_BINARY_DIR) / "test-tmp" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

const s2s::RunInfo& find(const std::vector<s2s::RunInfo>& runs, const std::string& id) {
  for (const auto& r : runs)
    if (r.id == id) return r;
  throw std::runtime_error("no run " + id);
}

}  // namespace

TEST(DiscoverRuns, FindsTheFixtureRunsWithStatusAndConfig) {
  auto runs = s2s::discover_runs({kRuns});
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].id, "gru_h256");
  EXPECT_EQ(runs[1].id, "lstm_h256");
  EXPECT_EQ(runs[2].id, "rnn_h128");
  EXPECT_EQ(runs[0].status(), s2s::RunStatus::EarlyStopping);
  EXPECT_EQ(runs[1].status(), s2s::RunStatus::Completed);
  EXPECT_EQ(runs[2].status(), s2s::RunStatus::Running);
  EXPECT_STREQ(s2s::display_name(runs[0].status()), "stopped early");
  EXPECT_EQ(runs[0].config_summary,
            "cell=gru impl=fused layers=1 hidden=256 batch=32 lr=0.001 dropout=0.1");
  EXPECT_EQ(runs[0].patience, 4);
  ASSERT_TRUE(runs[0].summary);
  EXPECT_EQ(runs[0].summary->best_epoch, 12);
  EXPECT_EQ(runs[0].summary->overfit_epoch, 10);
  EXPECT_EQ(runs[0].summary->stop_reason, "early_stopping");
  EXPECT_FALSE(runs[1].summary->overfit_epoch);  // null in the file
  EXPECT_EQ(runs[1].summary->stop_reason, "completed");
  EXPECT_EQ(runs[2].metrics_path(), fs::canonical(kRuns / "rnn_h128") / "metrics.jsonl");
}

TEST(DiscoverRuns, ARunDirectoryIsItsOwnRootAndSeveralRootsArePrefixed) {
  auto one = s2s::discover_runs({kRuns / "lstm_h256"});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].id, "lstm_h256");
  auto two = s2s::discover_runs({kRuns / "gru_h256", kRuns / "rnn_h128"});
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1].id, "rnn_h128");
  const fs::path root = fresh_dir("prefixed");
  fs::create_directories(root / "a" / "x");
  fs::create_directories(root / "b" / "x");
  std::ofstream(root / "a" / "x" / "config.json") << "{}";
  std::ofstream(root / "b" / "x" / "config.json") << "{}";
  auto runs = s2s::discover_runs({root / "a", root / "b"});
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].id, "a/x");
  EXPECT_EQ(runs[1].id, "b/x");
}

TEST(DiscoverRuns, NestedRunsUpToTwoLevelsAndSymlinksOutsideIgnored) {
  const fs::path root = fresh_dir("nested");
  const fs::path outside = fresh_dir("nested-outside");
  fs::create_directories(root / "grid" / "gru");
  fs::create_directories(root / "a" / "b" / "c");
  std::ofstream(root / "grid" / "gru" / "metrics.jsonl") << "{\"epoch\": 1}\n";
  std::ofstream(root / "a" / "b" / "c" / "metrics.jsonl") << "{\"epoch\": 1}\n";  // too deep
  std::ofstream(outside / "metrics.jsonl") << "{\"epoch\": 1}\n";
  fs::create_directory_symlink(outside, root / "escape");
  fs::create_directory_symlink(root / "grid" / "gru", root / "alias");  // inside: allowed
  auto runs = s2s::discover_runs({root});
  std::vector<std::string> ids;
  for (const auto& r : runs) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"alias", "grid/gru"}));
}

TEST(RunStatus, FromTheSummaryElseRunning) {
  s2s::RunInfo run;
  EXPECT_EQ(run.status(), s2s::RunStatus::Running);
  const std::tuple<const char*, s2s::RunStatus, const char*> cases[] = {
      {"completed", s2s::RunStatus::Completed, "finished"},
      {"early_stopping", s2s::RunStatus::EarlyStopping, "stopped early"},
      {"interrupted", s2s::RunStatus::Interrupted, "stopped"},
      {"non_finite_loss", s2s::RunStatus::NonFiniteLoss, "stopped"}};
  for (const auto& [reason, status, shown] : cases) {
    run.summary = s2s::RunSummary::parse(std::string(R"({"stop_reason": ")") + reason + "\"}");
    ASSERT_TRUE(run.summary) << reason;
    EXPECT_EQ(run.status(), status) << reason;
    EXPECT_STREQ(s2s::display_name(run.status()), shown) << reason;
  }
}

TEST(DiscoverRuns, MissingRootIsAnError) {
  try {
    s2s::discover_runs({kRuns / "nope"});
    FAIL() << "expected s2s::Error";
  } catch (const s2s::Error& e) {
    EXPECT_NE(std::string(e.what()).find("nope: no such runs directory"), std::string::npos);
  }
}

TEST(LoadRun, MalformedOrHugeConfigAndSummaryAreIgnored) {
  const fs::path dir = fresh_dir("badjson");
  std::ofstream(dir / "config.json") << "{\"cell\": \"gru\", ";
  std::ofstream(dir / "summary.json") << std::string(2 * 1024 * 1024, ' ') << "{}";
  auto run = s2s::load_run(dir);
  EXPECT_TRUE(run.config.empty());
  EXPECT_EQ(run.config_summary, "");
  EXPECT_FALSE(run.summary);
  EXPECT_EQ(run.status(), s2s::RunStatus::Running);
}

TEST(RunMarkers, SummaryWinsElseComputedWithConfigPatience) {
  auto runs = s2s::discover_runs({kRuns});
  const auto& gru = find(runs, "gru_h256");
  auto m = s2s::run_markers(gru, s2s::read_metrics(gru.metrics_path()));
  EXPECT_EQ(m.best_epoch, 12);
  EXPECT_EQ(m.overfit_epoch, 10);
  EXPECT_DOUBLE_EQ(m.best_valid_token_acc, 0.89672);
  EXPECT_DOUBLE_EQ(m.best_valid_seq_acc, 0.46621);

  // Without summary.json (still running), the rules run on the metrics: gru's curve has its
  // lowest validation loss at epoch 10 and 4 worse epochs after it (patience 4), and its best
  // sequence accuracy at epoch 12.
  s2s::RunInfo running = gru;
  running.summary.reset();
  auto epochs = s2s::read_metrics(gru.metrics_path());
  EXPECT_EQ(s2s::run_markers(running, epochs).overfit_epoch, 10);
  epochs.pop_back();  // only 3 epochs after the best: not yet
  EXPECT_FALSE(s2s::run_markers(running, epochs).overfit_epoch);
  EXPECT_EQ(s2s::run_markers(running, epochs).best_epoch, 12);
}
