// The trainer as a library: learning, exact resume, checkpoints and their error cases.
#include <gtest/gtest.h>
#include <torch/optim/adam.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "s2s/checkpoint.h"
#include "s2s/decode.h"
#include "s2s/error.h"
#include "s2s/metrics_log.h"
#include "s2s/trainer.h"
#include "test_util.h"

namespace {

using s2s::testing::lines_of;
using s2s::testing::read_text;
using s2s::testing::temp_dir;
using s2s::testing::write_copy_task;

s2s::TrainConfig tiny_config(const std::string& dir) {
  s2s::TrainConfig c = s2s::testing::config_for_dir(dir);
  c.layers = 1;
  c.hidden = 128;
  c.dropout = 0.0;
  c.batch = 32;
  c.lr = 0.005;
  c.lr_schedule = s2s::LrSchedule::Exponential;
  c.lr_decay = 0.7;
  c.epochs = 8;
  c.threads = 1;
  c.seed = 3;
  return c;
}

TEST(Trainer, TinyModelLearnsCopyOfLength4) {
  const std::string dir = temp_dir("learn");
  write_copy_task(dir, 4000, 200);
  // No time bound: speed is bench/'s business, and sanitized or loaded runs take minutes here.
  const s2s::TrainSummary s = s2s::train(tiny_config(dir));
  EXPECT_EQ(s.reason, s2s::RunStatus::Completed);
  // Every training pair exactly right, and the unseen validation pairs nearly all.
  EXPECT_GE(s.best_valid_seq_acc, 0.98);
  // metrics.jsonl: one object per epoch with the documented fields.
  const auto lines = lines_of(read_text(dir + "/run/metrics.jsonl"));
  ASSERT_EQ(lines.size(), 8u);
  const auto last = nlohmann::json::parse(lines.back());
  EXPECT_DOUBLE_EQ(last["train_seq_acc"].get<double>(), 1.0);
  for (const char* key : {"epoch", "train_loss", "train_token_acc", "train_seq_acc", "valid_loss",
                          "valid_token_acc", "valid_seq_acc", "epoch_seconds", "lr"}) {
    EXPECT_TRUE(last.contains(key)) << key;
  }
  EXPECT_EQ(last["epoch"], 8);
  const auto summary = nlohmann::json::parse(read_text(dir + "/run/summary.json"));
  EXPECT_EQ(summary["stop_reason"], "completed");
  EXPECT_EQ(summary["best_epoch"], s.best_epoch);
  // best.pt holds the best epoch and reproduces its accuracy.
  const s2s::LoadedCheckpoint best = s2s::load_checkpoint(dir + "/run/best.pt");
  EXPECT_EQ(best.meta.epoch, s.best_epoch);
  EXPECT_EQ(best.vocab.size(), 4 + 10);
}

// Metrics without wall-clock fields, for comparing runs.
std::vector<std::string> numbers_of(const std::string& metrics_path) {
  std::vector<std::string> out;
  for (const auto& line : lines_of(read_text(metrics_path))) {
    auto j = nlohmann::json::parse(line);
    for (const char* k : {"epoch_seconds", "train_pairs_per_second", "elapsed_seconds"}) j.erase(k);
    out.push_back(j.dump());
  }
  return out;
}

// What Ctrl-C after `steps` optimizer steps does, without a signal; and `--resume`.
s2s::TrainOptions stop_after(int64_t steps) {
  s2s::TrainOptions o;
  o.stop_after_steps = steps;
  o.handle_signals = false;
  return o;
}

using s2s::testing::resuming;

TEST(Trainer, ResumingAnInterruptedRunReproducesTheUninterruptedMetrics) {
  const std::string dir = temp_dir("resume");
  write_copy_task(dir, 300, 60);
  s2s::TrainConfig config = tiny_config(dir);
  config.epochs = 3;
  config.dropout = 0.3;
  config.lr = 0.01;
  config.lr_decay = 0.9;  // the schedule must resume too
  config.layers = 2;      // dropout between layers draws from the RNG: resume must restore it
  config.hidden = 16;
  config.teacher_forcing = 0.7;
  config.out = dir + "/straight";
  s2s::train(config);

  config.out = dir + "/interrupted";
  // 13 steps: mid-epoch 2 (10 steps per epoch).
  EXPECT_EQ(s2s::train(config, stop_after(13)).reason, s2s::RunStatus::Interrupted);
  EXPECT_EQ(lines_of(read_text(config.out + "/metrics.jsonl")).size(), 1u);
  EXPECT_EQ(s2s::train(config, resuming()).reason, s2s::RunStatus::Completed);

  const auto expected = numbers_of(dir + "/straight/metrics.jsonl");
  ASSERT_EQ(expected.size(), 3u);
  EXPECT_EQ(numbers_of(dir + "/interrupted/metrics.jsonl"), expected);
}

// --ema-epochs: validation and the checkpoints' model are the smoothed weights, and last.pt also
// holds the trained ones, which a resume goes on from (the resume tests here run with the default
// --ema-epochs, so they check that too). Without it a checkpoint holds one set of weights.
TEST(Trainer, EmaValidatesAndSavesTheSmoothedWeights) {
  const std::string dir = temp_dir("ema");
  write_copy_task(dir, 300, 60);
  s2s::TrainConfig config = tiny_config(dir);
  config.epochs = 2;
  config.hidden = 16;
  config.ema_epochs = 2;
  s2s::train(config, s2s::testing::quietly());
  const std::string last = config.out + "/last.pt";
  const double logged =
      nlohmann::json::parse(lines_of(read_text(config.out + "/metrics.jsonl")).back())["valid_loss"]
          .get<double>();
  EXPECT_NEAR(s2s::evaluate_file(last, config.valid).loss, logged, 1e-4 * logged);

  // The trained weights: different, and so is their validation loss.
  s2s::LoadedCheckpoint ck = s2s::load_checkpoint(last);
  const std::vector<at::Tensor> smoothed = ck.model->parameters();
  std::vector<at::Tensor> kept;
  for (const auto& p : smoothed) kept.push_back(p.detach().clone());
  torch::optim::Adam adam(ck.model->parameters(), torch::optim::AdamOptions(1e-3));
  ASSERT_TRUE(s2s::restore_training_state(last, adam, &ck.model));
  EXPECT_FALSE(torch::equal(ck.model->parameters()[0], kept[0]));
  const std::string trained = dir + "/trained.pt";
  s2s::save_checkpoint(trained, ck.model, ck.vocab, ck.meta);
  EXPECT_GT(std::abs(s2s::evaluate_file(trained, config.valid).loss - logged), 1e-3 * logged);

  config.ema_epochs = 0;
  config.out = dir + "/plain";
  s2s::train(config, s2s::testing::quietly());
  s2s::LoadedCheckpoint plain = s2s::load_checkpoint(config.out + "/last.pt");
  torch::optim::Adam plain_adam(plain.model->parameters(), torch::optim::AdamOptions(1e-3));
  EXPECT_FALSE(s2s::restore_training_state(config.out + "/last.pt", plain_adam, &plain.model));
  EXPECT_EQ(nlohmann::json::parse(read_text(config.out + "/config.json"))["ema_epochs"], 0.0);
}

// --precision is part of the run: written to config.json, and a resumed run trains (and
// validates) in it again, so an interrupted bf16 run still reproduces the uninterrupted one.
TEST(Trainer, Bf16RunsStoreTheirPrecisionAndResumeInIt) {
  const std::string dir = temp_dir("bf16");
  write_copy_task(dir, 200, 40);
  s2s::TrainConfig config = tiny_config(dir);
  config.epochs = 2;
  config.hidden = 16;
  config.layers = 2;
  config.precision = s2s::Precision::BF16;
  config.out = dir + "/straight";
  s2s::train(config);
  const auto saved = nlohmann::json::parse(read_text(config.out + "/config.json"));
  EXPECT_EQ(saved["precision"], "bf16");

  config.out = dir + "/interrupted";
  // 9 steps: mid-epoch 2 (7 steps per epoch).
  EXPECT_EQ(s2s::train(config, stop_after(9)).reason, s2s::RunStatus::Interrupted);
  // What `s2s train --resume DIR` does: the configuration comes from DIR/config.json.
  s2s::TrainConfig resumed = s2s::TrainConfig::from_json(read_text(config.out + "/config.json"),
                                                         config.out + "/config.json");
  EXPECT_EQ(resumed.precision, s2s::Precision::BF16);
  EXPECT_EQ(s2s::train(resumed, resuming()).reason, s2s::RunStatus::Completed);
  const auto expected = numbers_of(dir + "/straight/metrics.jsonl");
  ASSERT_EQ(expected.size(), 2u);
  EXPECT_EQ(numbers_of(dir + "/interrupted/metrics.jsonl"), expected);

  // The same run in f32 gives different (if close) numbers: bf16 really ran, before and after.
  config.precision = s2s::Precision::F32;
  config.out = dir + "/f32";
  s2s::train(config);
  EXPECT_NE(numbers_of(dir + "/f32/metrics.jsonl"), expected);
  // Configurations written before --precision existed read as f32.
  EXPECT_EQ(s2s::TrainConfig::from_json("{}", "old.json").precision, s2s::Precision::F32);
}

// steps.jsonl without its wall-clock field, for comparing runs.
std::vector<std::string> steps_of(const std::string& path) {
  std::vector<std::string> out;
  for (const auto& line : lines_of(read_text(path))) {
    auto j = nlohmann::json::parse(line);
    j.erase("tokens_per_second");
    out.push_back(j.dump());
  }
  return out;
}

// Every schedule that keeps state (plateau: the rate and the last halving; warmup-cosine: the
// step count) resumes exactly, and so does the step log: a run interrupted twice writes the
// metrics and step records of the uninterrupted run.
TEST(Trainer, ResumedSchedulesAndStepLogsEqualTheUninterruptedRun) {
  const std::string dir = temp_dir("schedules");
  write_copy_task(dir, 300, 60);
  for (const s2s::LrSchedule schedule : {s2s::LrSchedule::Plateau, s2s::LrSchedule::WarmupCosine}) {
    s2s::TrainConfig config = tiny_config(dir);
    config.epochs = 4;
    config.hidden = 16;
    config.lr = 0.05;
    config.lr_schedule = schedule;
    config.lr_patience = 1;
    config.warmup_steps = 7;
    config.warmup_epochs = 0;
    config.log_every = 3;  // 10 steps per epoch: records straddle epochs and interruptions
    const std::string name = s2s::to_string(schedule);
    config.out = dir + "/" + name + "_straight";
    s2s::train(config);
    config.out = dir + "/" + name + "_interrupted";
    EXPECT_EQ(s2s::train(config, stop_after(14)).reason, s2s::RunStatus::Interrupted);
    s2s::TrainOptions again = resuming();
    again.stop_after_steps = 11;  // to step 25, mid-epoch 3
    EXPECT_EQ(s2s::train(config, again).reason, s2s::RunStatus::Interrupted);
    EXPECT_EQ(s2s::train(config, resuming()).reason, s2s::RunStatus::Completed);

    const auto expected = numbers_of(dir + "/" + name + "_straight/metrics.jsonl");
    ASSERT_EQ(expected.size(), 4u) << name;
    EXPECT_EQ(numbers_of(config.out + "/metrics.jsonl"), expected) << name;
    const auto steps = steps_of(dir + "/" + name + "_straight/steps.jsonl");
    ASSERT_EQ(steps.size(), 13u) << name;  // steps 3, 6, ..., 39
    EXPECT_EQ(steps_of(config.out + "/steps.jsonl"), steps) << name;
    const auto first = nlohmann::json::parse(steps.front());
    EXPECT_EQ(first["step"], 3);
    EXPECT_DOUBLE_EQ(first["epoch_fraction"].get<double>(), 0.3);
    if (schedule == s2s::LrSchedule::WarmupCosine) {
      // Step 3 is in the warm-up: 3/7 of the rate.
      EXPECT_DOUBLE_EQ(first["lr"].get<double>(), 0.05 * 3 / 7);
    }
  }
}

TEST(Trainer, PatienceStopsOnRisingValidationLossAndSaysWhy) {
  const std::string dir = temp_dir("patience");
  write_copy_task(dir, 64, 32);
  s2s::TrainConfig config = tiny_config(dir);
  config.lr = 0.5;  // far too high: validation loss soon stops improving
  config.lr_decay = 1.0;
  config.epochs = 30;
  config.patience = 2;
  const s2s::TrainSummary s = s2s::train(config);
  ASSERT_EQ(s.reason, s2s::RunStatus::EarlyStopping);
  const auto summary = nlohmann::json::parse(read_text(config.out + "/summary.json"));
  EXPECT_EQ(summary["stop_reason"], "early_stopping");
  EXPECT_EQ(summary["min_valid_loss_epoch"].get<int64_t>() + 2, s.epochs_completed);
  EXPECT_LT(s.epochs_completed, 30);
  // Whether that was overfitting is the one rule's call (s2s/overfit.h), on the logged curves.
  const auto verdict = s2s::overfit_epoch(s2s::read_metrics(config.out + "/metrics.jsonl"), 2);
  if (verdict) {
    EXPECT_EQ(summary["overfitting_epoch"], *verdict);
  } else {
    EXPECT_TRUE(summary["overfitting_epoch"].is_null());
  }
}

// --time-budget: a budget no epoch fits in ends the run after its first epoch, saying so, as
// "completed" (the plan, not the user, stopped it); the plan is in last.pt's state and a
// resume with a larger budget goes on from it.
TEST(Trainer, TimeBudgetEndsTheRunWhenNoFurtherEpochFitsAndResumeReplans) {
  const std::string dir = temp_dir("budget");
  write_copy_task(dir, 64, 32);
  s2s::TrainConfig config = tiny_config(dir);
  config.epochs = 30;
  config.time_budget = 1e-6;  // minutes: spent by the time the first epoch ends
  std::ostringstream log;
  s2s::TrainOptions options = s2s::testing::quietly();
  options.log = &log;
  const s2s::TrainSummary s = s2s::train(config, options);
  EXPECT_EQ(s.reason, s2s::RunStatus::Completed);
  EXPECT_EQ(s.epochs_completed, 1);
  EXPECT_NE(log.str().find("time budget 1e-06 min: no more epochs fit, epoch 1 is the last"),
            std::string::npos)
      << log.str();
  EXPECT_EQ(lines_of(read_text(config.out + "/metrics.jsonl")).size(), 1u);
  const auto state =
      nlohmann::json::parse(s2s::load_checkpoint(config.out + "/last.pt").meta.state_json);
  EXPECT_EQ(state["planned_epochs"], 1);
  EXPECT_DOUBLE_EQ(
      nlohmann::json::parse(read_text(config.out + "/config.json"))["time_budget"].get<double>(),
      1e-6);

  // A day's budget on resume: every remaining epoch fits, up to --epochs (here 3).
  config.time_budget = 24 * 60;
  config.epochs = 3;
  std::ostringstream more;
  s2s::TrainOptions again = s2s::testing::resuming();
  again.log = &more;
  const s2s::TrainSummary r = s2s::train(config, again);
  EXPECT_EQ(r.epochs_completed, 3);
  EXPECT_NE(more.str().find("epoch 3/3"), std::string::npos) << more.str();
  EXPECT_NE(more.str().find("3 epochs fit"), std::string::npos) << more.str();
}

void expect_error(const std::string& path, const std::string& fragment) {
  try {
    s2s::load_checkpoint(path);
    ADD_FAILURE() << path << " loaded";
  } catch (const s2s::Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, DamagedOrForeignFilesGiveOneLineErrors) {
  const std::string dir = temp_dir("damaged");
  s2s::Seq2Seq model(s2s::Seq2SeqOptions(14).hidden(8).layers(2));
  const s2s::Vocab vocab =
      s2s::Vocab::from_tokens({"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
  s2s::CheckpointMeta meta;
  meta.config_json = R"({"cell": "gru", "hidden": 8, "layers": 2, "dropout": 0.2})";
  meta.state_json = "{}";
  s2s::save_checkpoint(dir + "/good.pt", model, vocab, meta);
  EXPECT_EQ(s2s::load_checkpoint(dir + "/good.pt").vocab, vocab);
  const std::string bytes = read_text(dir + "/good.pt");

  for (size_t cut : {size_t{0}, size_t{10}, bytes.size() / 3, bytes.size() - 30}) {
    std::ofstream(dir + "/cut.pt", std::ios::binary) << bytes.substr(0, cut);
    expect_error(dir + "/cut.pt", "cut.pt");
  }
  // Flipped bytes all over the file: never a crash, always a one-line error (or, when a flip
  // lands in slack space, a file that still loads).
  for (size_t at = 100; at < bytes.size(); at += bytes.size() / 25) {
    std::string bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x5a);
    std::ofstream(dir + "/flip.pt", std::ios::binary) << bad;
    try {
      s2s::load_checkpoint(dir + "/flip.pt");
    } catch (const s2s::Error& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
  std::ofstream(dir + "/data.pt") << "source,target\n1 2,1 2\n";
  expect_error(dir + "/data.pt", "not a readable s2s checkpoint");
  expect_error(dir + "/missing.pt", "cannot open");

  // A vocabulary that does not fit the weights (14 rows, 13 tokens).
  const s2s::Vocab small = s2s::Vocab::from_tokens({"0", "1", "2", "3", "4", "5", "6", "7", "8"});
  s2s::save_checkpoint(dir + "/mismatch.pt", model, small, meta);
  expect_error(dir + "/mismatch.pt", "enc_emb.weight has shape [14, 8], expected [13, 8]");
}

}  // namespace
