// TrainConfig <-> config.json: typed fields, the flag spellings on disk, old files, bad files.
#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "s2s/error.h"
#include "s2s/run_record.h"

namespace s2s {
namespace {

std::string error_of(const std::string& json) {
  try {
    TrainConfig::from_json(json, "run/config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TrainConfig, WritesChoicesAsTheirFlagValuesAndReadsThemBack) {
  TrainConfig c;
  c.cell = Cell::LSTM;
  c.impl = RnnImpl::Torch;
  c.precision = Precision::BF16;
  c.lr_schedule = LrSchedule::WarmupCosine;
  c.warmup_steps = 30;
  c.log_every = 7;
  c.grad_compression = GradCompression::Fp16;
  const auto j = nlohmann::json::parse(c.to_json());
  EXPECT_EQ(j["cell"], "lstm");
  EXPECT_EQ(j["impl"], "torch");
  EXPECT_EQ(j["precision"], "bf16");
  EXPECT_EQ(j["lr_schedule"], "warmup-cosine");
  EXPECT_EQ(j["grad_compression"], "fp16");
  const TrainConfig back = TrainConfig::from_json(c.to_json(), "x");
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(back.cell, Cell::LSTM);
  EXPECT_EQ(back.lr_schedule, LrSchedule::WarmupCosine);
  EXPECT_EQ(back.grad_compression, GradCompression::Fp16);
  // Runs from before the setting sent f32 gradients.
  EXPECT_EQ(TrainConfig::from_json("{}", "x").grad_compression, GradCompression::None);
}

TEST(TrainConfig, ReadsConfigurationsWrittenBeforeSchedulesAsExponential) {
  // The keys of a config.json from before --lr-schedule and --log-every (docs/results runs).
  const TrainConfig old = TrainConfig::from_json(
      R"({"train": "t.csv", "valid": "v.csv", "out": "r", "cell": "gru", "layers": 4,
          "hidden": 256, "dropout": 0.2, "impl": "onednn", "precision": "f32", "epochs": 8,
          "batch": 64, "lr": 0.002, "lr_decay": 0.75, "teacher_forcing": 1.0, "clip": 5.0,
          "seed": 1, "threads": 0, "patience": 0, "valid_batch": 512})",
      "old.json");
  EXPECT_EQ(old.lr_schedule, LrSchedule::Exponential);
  EXPECT_DOUBLE_EQ(old.lr_decay, 0.75);
  EXPECT_EQ(old.cell, Cell::GRU);
  EXPECT_EQ(old.log_every, TrainConfig{}.log_every);
  EXPECT_EQ(old.label_smoothing, 0.0);  // before --label-smoothing: plain NLL
  EXPECT_EQ(old.bucket_pool, 0);        // before --bucket-pool: plain shuffled batches
  EXPECT_EQ(old.ema_epochs, 0.0);       // before --ema-epochs: no weight smoothing
  EXPECT_EQ(TrainConfig{}.ema_epochs, 0.5);
  EXPECT_EQ(TrainConfig::from_json(R"({"ema_epochs": 2})", "x").ema_epochs, 2.0);
  EXPECT_EQ(TrainConfig{}.bucket_pool, 0);
  EXPECT_EQ(TrainConfig::from_json(R"({"bucket_pool": 8})", "x").bucket_pool, 8);
  EXPECT_EQ(TrainConfig::from_json(R"({"label_smoothing": 0.1})", "x").label_smoothing, 0.1);
  // An explicit schedule is kept; today's default is warmup-cosine with one warm-up epoch.
  EXPECT_EQ(TrainConfig::from_json(R"({"lr_schedule": "plateau"})", "x").lr_schedule,
            LrSchedule::Plateau);
  EXPECT_EQ(TrainConfig{}.lr_schedule, LrSchedule::WarmupCosine);
  EXPECT_EQ(TrainConfig{}.warmup_epochs, 1);
  // A warm-up given in steps alone is exactly those steps.
  const TrainConfig steps =
      TrainConfig::from_json(R"({"lr_schedule": "warmup-cosine", "warmup_steps": 50})", "x");
  EXPECT_EQ(steps.warmup_steps, 50);
  EXPECT_EQ(steps.warmup_epochs, 0);
}

TEST(TrainConfig, BadFilesNameTheFileAndTheSetting) {
  EXPECT_EQ(error_of(R"({"cell": "transformer"})"),
            "run/config.json: setting 'cell': unknown cell 'transformer': expected gru, lstm or "
            "rnn");
  EXPECT_EQ(error_of(R"({"lr_schedule": "cyclic"})"),
            "run/config.json: setting 'lr_schedule': unknown learning-rate schedule 'cyclic': "
            "expected constant, exponential, plateau or warmup-cosine");
  EXPECT_EQ(error_of(R"({"grad_compression": "bf16"})"),
            "run/config.json: setting 'grad_compression': unknown gradient compression 'bf16': "
            "expected none or fp16");
  EXPECT_EQ(error_of(R"({"precision": 16})"),
            "run/config.json: setting 'precision' has the wrong type (number)");
  EXPECT_EQ(error_of(R"({"colour": "red"})"), "run/config.json: unknown setting 'colour'");
  EXPECT_EQ(error_of("[1]"), "run/config.json: expected a JSON object of settings");
}

TEST(TrainConfig, ValidateNamesTheFlag) {
  TrainConfig c;
  c.train = "t";
  c.valid = "v";
  c.out = "o";
  EXPECT_NO_THROW(c.validate());
  const auto message = [](TrainConfig bad) {
    try {
      bad.validate();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  TrainConfig bf16_torch = c;
  bf16_torch.precision = Precision::BF16;
  bf16_torch.impl = RnnImpl::Torch;
  EXPECT_EQ(
      message(bf16_torch),
      "--precision bf16 needs --rnn-impl onednn or gemm (the stock torch RNNs run in f32 only)");
  TrainConfig warm = c;
  warm.warmup_epochs = -1;
  EXPECT_EQ(message(warm), "--warmup-epochs must be >= 0");
  TrainConfig patience = c;
  patience.lr_patience = 0;
  EXPECT_EQ(message(patience), "--lr-patience must be at least 1");
  TrainConfig every = c;
  every.log_every = -1;
  EXPECT_EQ(message(every), "--log-every must be >= 0 (0: no step log)");
  TrainConfig smoothing = c;
  smoothing.label_smoothing = 1.0;  // all uniform: the targets would not matter at all
  EXPECT_EQ(message(smoothing), "--label-smoothing must be in [0, 1)");
  smoothing.label_smoothing = -0.1;
  EXPECT_EQ(message(smoothing), "--label-smoothing must be in [0, 1)");
  TrainConfig pool = c;
  pool.bucket_pool = -1;
  EXPECT_EQ(message(pool), "--bucket-pool must be >= 0 (0: no length bucketing)");
  for (const double bad : {-0.01, 1001.0, std::nan("")}) {
    TrainConfig ema = c;
    ema.ema_epochs = bad;
    EXPECT_EQ(message(ema), "--ema-epochs must be in [0, 1000] (0: no weight smoothing)") << bad;
  }
}

TEST(LrSchedule, ParsesEveryNameItPrints) {
  for (LrSchedule s : {LrSchedule::Constant, LrSchedule::Exponential, LrSchedule::Plateau,
                       LrSchedule::WarmupCosine})
    EXPECT_EQ(parse_lr_schedule(to_string(s)), s);
  EXPECT_THROW(parse_lr_schedule("cosine"), Error);
}

}  // namespace
}  // namespace s2s
