// metrics.jsonl parsing and following, and the best/overfit epochs of a metrics log.
#include "s2s/metrics_log.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

namespace fs = std::filesystem;

namespace {

std::string line(int epoch, double valid_loss) {
  return "{\"epoch\": " + std::to_string(epoch) +
         ", \"train_loss\": 1.5, \"train_token_acc\": 0.5, \"train_seq_acc\": 0.1, "
         "\"valid_loss\": " +
         std::to_string(valid_loss) +
         ", \"valid_token_acc\": 0.4, \"valid_seq_acc\": 0.05, \"epoch_seconds\": 3.5, "
         "\"lr\": 0.001}\n";
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(S2S_BINARY_DIR) / "test-tmp" /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ / "metrics.jsonl";
  }
  void append(const std::string& text) {
    std::ofstream out(path_, std::ios::app | std::ios::binary);
    out << text;
  }
  fs::path dir_, path_;
};

std::vector<s2s::EpochRecord> losses(std::initializer_list<double> values) {
  std::vector<s2s::EpochRecord> out;
  int e = 1;
  for (double v : values) {
    s2s::EpochRecord m;
    m.epoch = e++;
    m.valid_loss = v;
    out.push_back(m);
  }
  return out;
}

}  // namespace

TEST(ParseMetricsLine, ReadsAllFieldsAndLeavesMissingOnesNaN) {
  auto m = s2s::EpochRecord::parse(line(3, 0.75));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->epoch, 3);
  EXPECT_DOUBLE_EQ(m->train_loss, 1.5);
  EXPECT_DOUBLE_EQ(m->valid_loss, 0.75);
  EXPECT_DOUBLE_EQ(m->valid_seq_acc, 0.05);
  EXPECT_DOUBLE_EQ(m->lr, 0.001);
  auto sparse = s2s::EpochRecord::parse(R"({"epoch": 1, "valid_loss": 2})");
  ASSERT_TRUE(sparse);
  EXPECT_DOUBLE_EQ(sparse->valid_loss, 2.0);
  EXPECT_TRUE(std::isnan(sparse->train_loss));
}

TEST(ParseMetricsLine, RejectsWhatIsNotARecord) {
  for (const char* bad : {"", "garbage", "{\"epoch\": 1, \"train_lo", "[1,2]", "{}",
                          "{\"epoch\": \"3\"}", "{\"epoch\": -1}", "{\"epoch\": 1.5}", "null"}) {
    EXPECT_FALSE(s2s::EpochRecord::parse(bad)) << bad;
  }
}

TEST_F(TempDir, FollowerReadsOnlyCompleteLinesAndFollowsGrowth) {
  s2s::MetricsFollower f(path_);
  EXPECT_FALSE(f.poll());  // no file yet
  EXPECT_TRUE(f.records().empty());
  append(line(1, 2.0) + line(2, 1.5));
  EXPECT_TRUE(f.poll());
  ASSERT_EQ(f.records().size(), 2u);
  const std::string third = line(3, 1.25);
  append(third.substr(0, 25));  // a writer mid-line
  EXPECT_FALSE(f.poll());
  EXPECT_EQ(f.records().size(), 2u);
  append(third.substr(25));
  EXPECT_TRUE(f.poll());
  ASSERT_EQ(f.records().size(), 3u);
  EXPECT_EQ(f.records()[2].epoch, 3);
  EXPECT_DOUBLE_EQ(f.records()[2].valid_loss, 1.25);
  EXPECT_EQ(f.skipped_lines(), 0u);
  EXPECT_FALSE(f.poll());  // nothing new
}

TEST_F(TempDir, FollowerSkipsMalformedAndOverlongLines) {
  append(line(1, 2.0) + "not json\n" + "{\"epoch\": 2, \"valid_loss\": \n" + "\n" +
         std::string(s2s::MetricsFollower::kMaxLineBytes + 10, 'x') + "\n" + line(2, 1.0));
  s2s::MetricsFollower f(path_);
  f.poll();
  ASSERT_EQ(f.records().size(), 2u);
  EXPECT_EQ(f.records()[1].epoch, 2);
  EXPECT_EQ(f.skipped_lines(), 3u);  // the blank line is not counted
}

TEST_F(TempDir, FollowerDropsAnOverlongLineArrivingInPieces) {
  s2s::MetricsFollower f(path_);
  append(line(1, 2.0));
  for (int i = 0; i < 3; ++i) {
    append(std::string(s2s::MetricsFollower::kMaxLineBytes / 2, 'y'));
    f.poll();
  }
  append("\n" + line(2, 1.0));
  f.poll();
  ASSERT_EQ(f.records().size(), 2u);
  EXPECT_EQ(f.skipped_lines(), 1u);
}

TEST_F(TempDir, FollowerRestartsOnTruncationAndReplacementAndEmptiesOnVanish) {
  append(line(1, 2.0) + line(2, 1.5) + line(3, 1.2));
  s2s::MetricsFollower f(path_);
  f.poll();
  ASSERT_EQ(f.records().size(), 3u);
  fs::resize_file(path_, 0);  // a new run writing the same file
  append(line(1, 9.0));
  EXPECT_TRUE(f.poll());
  ASSERT_EQ(f.records().size(), 1u);
  EXPECT_DOUBLE_EQ(f.records()[0].valid_loss, 9.0);
  {  // atomically replaced by a longer file (new inode)
    std::ofstream out(dir_ / "new.jsonl");
    out << line(1, 5.0) << line(2, 4.0);
  }
  fs::rename(dir_ / "new.jsonl", path_);
  EXPECT_TRUE(f.poll());
  ASSERT_EQ(f.records().size(), 2u);
  EXPECT_DOUBLE_EQ(f.records()[0].valid_loss, 5.0);
  fs::remove(path_);
  EXPECT_TRUE(f.poll());
  EXPECT_TRUE(f.records().empty());
}

TEST_F(TempDir, AResumedRunRewritingEpochsReplacesThem) {
  append(line(1, 3.0) + line(2, 2.0) + line(3, 1.0) + line(2, 2.5) + line(3, 1.5) + line(4, 1.2));
  auto all = s2s::read_metrics(path_);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_DOUBLE_EQ(all[0].valid_loss, 3.0);
  EXPECT_DOUBLE_EQ(all[1].valid_loss, 2.5);
  EXPECT_DOUBLE_EQ(all[2].valid_loss, 1.5);
  EXPECT_EQ(all[3].epoch, 4);
}

TEST_F(TempDir, ReadMetricsReadsWholeFile) {
  std::string text;
  for (int e = 1; e <= 50; ++e) text += line(e, 3.0 / e);
  append(text + "{\"epoch\": 51");
  auto all = s2s::read_metrics(path_);
  ASSERT_EQ(all.size(), 50u);
  EXPECT_EQ(all.back().epoch, 50);
  EXPECT_TRUE(s2s::read_metrics(dir_ / "missing.jsonl").empty());
}

TEST(BestEpoch, HighestValidSeqAccTiesToLowerLossElseLowestLoss) {
  auto e = losses({3, 2, 1.5, 1.0, 2.5});
  const double seq[] = {0.1, 0.4, 0.4, 0.3, 0.2};
  for (size_t i = 0; i < e.size(); ++i) e[i].valid_seq_acc = seq[i];
  EXPECT_EQ(s2s::best_epoch(e), 3);  // 0.4 at epochs 2 and 3; epoch 3 has the lower loss
  // Without sequence accuracy: lowest validation loss, first on ties.
  EXPECT_EQ(s2s::best_epoch(losses({3, 2, 1, 1, 2})), 3);
  EXPECT_EQ(s2s::best_epoch(losses({NAN, 2, NAN})), 2);
  EXPECT_FALSE(s2s::best_epoch(losses({NAN})));
  EXPECT_FALSE(s2s::best_epoch({}));
}

TEST(OverfitEpoch, AppliesTheOneRuleWithTheGivenPatience) {
  // Lowest validation loss at epoch 3, then a clear rise while the training loss keeps falling.
  auto e = losses({3, 2, 1, 1.5, 1.6, 1.7});
  for (size_t i = 0; i < e.size(); ++i) e[i].train_loss = 1.0 / static_cast<double>(i + 1);
  EXPECT_EQ(s2s::overfit_epoch(e, 3), 3);
  EXPECT_FALSE(s2s::overfit_epoch(e, 4));  // only 3 epochs after the lowest
  EXPECT_FALSE(s2s::overfit_epoch(e, 0));
  // The same validation curve with a training loss that rose too: not overfitting.
  for (auto& m : e) m.train_loss = m.valid_loss;
  EXPECT_FALSE(s2s::overfit_epoch(e, 3));
  EXPECT_FALSE(s2s::overfit_epoch({}, 3));
}
