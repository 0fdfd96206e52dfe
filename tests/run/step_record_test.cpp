// One line of steps.jsonl: the strict writer and the tolerant reader.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "s2s/run_record.h"

namespace s2s {
namespace {

TEST(StepRecord, RoundTripsThroughOneLine) {
  StepRecord r;
  r.step = 230;
  r.epoch = 2;
  r.epoch_fraction = 1.05;
  r.train_loss = 0.125;
  r.tokens_per_second = 41000.5;
  r.lr = 0.0015;
  const std::string line = r.to_json();
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line, R"({"step":230,"epoch":2,"epoch_fraction":1.05,"train_loss":0.125,)"
                  R"("tokens_per_second":41000.5,"lr":0.0015})");
  const auto back = StepRecord::parse(line);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->to_json(), line);
}

TEST(StepRecord, ToleratesMissingExtrasAndRejectsWhatIsNotARecord) {
  const auto minimal = StepRecord::parse(R"({"step": 10, "epoch": 1, "train_loss": 2.5})");
  ASSERT_TRUE(minimal);
  EXPECT_EQ(minimal->step, 10);
  EXPECT_DOUBLE_EQ(minimal->train_loss, 2.5);
  EXPECT_DOUBLE_EQ(minimal->lr, 0.0);
  for (const char* bad :
       {"", "garbage", "[1,2]", R"({"step": 10, "epoch": 1, "train_lo)",
        R"({"step": "10", "epoch": 1, "train_loss": 2.5})", R"({"step": 10, "train_loss": 2.5})",
        R"({"step": 10, "epoch": 1, "train_loss": null})"})
    EXPECT_FALSE(StepRecord::parse(bad)) << bad;
}

}  // namespace
}  // namespace s2s
