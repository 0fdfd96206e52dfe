// ProgressReporter's lines reach a log written to a file as they happen: every message is
// flushed, as the epoch lines are, not held in the stream's buffer until the next epoch's.
#include "train/progress.h"

#include <gtest/gtest.h>

#include <ostream>
#include <streambuf>
#include <string>

namespace {

// Keeps what was written and counts the flushes (std::flush calls pubsync).
class CountingBuffer : public std::streambuf {
 public:
  std::string text;
  int flushes = 0;

 protected:
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) text.push_back(static_cast<char>(c));
    return c;
  }
  int sync() override {
    ++flushes;
    return 0;
  }
};

TEST(Progress, EveryMessageIsFlushedWhenItIsWritten) {
  CountingBuffer buffer;
  std::ostream log(&buffer);
  s2s::TrainOptions options;
  options.log = &log;
  s2s::TrainConfig config;
  config.out = "run";
  config.patience = 3;
  s2s::ProgressReporter progress(options, config);

  progress.note("time budget 58 min: 38 epochs fit");
  EXPECT_EQ(buffer.text, "time budget 58 min: 38 epochs fit\n");
  EXPECT_EQ(buffer.flushes, 1);

  progress.early_stop(4);
  EXPECT_EQ(buffer.flushes, 2);
  EXPECT_NE(buffer.text.find("early stopping: valid loss has not improved for 3 epochs (best at "
                             "epoch 4)\n"),
            std::string::npos);

  s2s::EpochRecord m{};
  m.epoch = 2;
  progress.epoch(m, 7, false);
  EXPECT_EQ(buffer.flushes, 3);
  EXPECT_NE(buffer.text.find("epoch 2/7  train loss"), std::string::npos);
}

}  // namespace
