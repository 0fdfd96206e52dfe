// Resume is safe: a resumed run keeps the settings that define its model and data (they are
// checked against the checkpoint before any file is touched) and records the ones that may
// change; and metrics.jsonl never shows an epoch that last.pt does not hold.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "s2s/checkpoint.h"
#include "s2s/error.h"
#include "s2s/trainer.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using s2s::testing::lines_of;
using s2s::testing::quietly;
using s2s::testing::read_text;
using s2s::testing::resuming;
using s2s::testing::temp_dir;
using s2s::testing::write_copy_task;

// One epoch of a 2-layer, 64-unit GRU on a small copy task (the run of issue 16's report).
s2s::TrainConfig small_run(const std::string& dir) {
  write_copy_task(dir, 120, 30);
  s2s::TrainConfig c = s2s::testing::config_for_dir(dir);
  c.layers = 2;
  c.hidden = 64;
  c.epochs = 1;
  c.batch = 32;
  c.threads = 1;
  c.log_every = 1;
  return c;
}

std::string resume_error(const s2s::TrainConfig& config) {
  try {
    s2s::train(config, resuming());
  } catch (const s2s::Error& e) {
    return e.what();
  }
  return "";
}

// Every file of a run directory with its bytes.
std::map<std::string, std::string> files_of(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(dir))
    files[entry.path().filename().string()] = read_text(entry.path().string());
  return files;
}

// The failure of issue 16: `--resume RUN --epochs 2 --layers 1 --hidden 32` on a 2x64 run went
// on training the stored model, wrote 1x32 into config.json and the checkpoints, and left a run
// whose checkpoints no longer loaded.
TEST(SafeResume, SettingsThatDefineTheModelMustMatchAndNothingIsWritten) {
  const std::string dir = temp_dir("resume_model");
  s2s::TrainConfig config = small_run(dir);
  s2s::train(config, quietly());
  const auto before = files_of(config.out);
  ASSERT_EQ(before.count("last.pt"), 1u);

  s2s::TrainConfig changed = config;
  changed.epochs = 2;
  changed.layers = 1;
  changed.hidden = 32;
  EXPECT_EQ(resume_error(changed), "--resume " + config.out +
                                       ": --layers 1 differs from the run's 2; --hidden 32 "
                                       "differs from the run's 64");
  EXPECT_TRUE(files_of(config.out) == before) << "the refused resume changed the run's files";
  EXPECT_EQ(s2s::load_checkpoint(config.out + "/last.pt").model->options.layers(), 2);
}

// Each run-defining setting is checked, by the name of its flag and with both values.
TEST(SafeResume, EveryRunDefiningSettingIsNamedWithBothValues) {
  const std::string dir = temp_dir("resume_each");
  s2s::TrainConfig config = small_run(dir);
  s2s::train(config, quietly());
  fs::create_directories(dir + "/other");
  write_copy_task(dir + "/other", 50, 10);
  const std::vector<std::pair<std::function<void(s2s::TrainConfig&)>, std::string>> cases{
      {[](auto& c) { c.cell = s2s::Cell::LSTM; }, "--cell lstm differs from the run's gru"},
      {[](auto& c) { c.layers = 3; }, "--layers 3 differs from the run's 2"},
      {[](auto& c) { c.hidden = 16; }, "--hidden 16 differs from the run's 64"},
      {[](auto& c) { c.attention = s2s::Attention::Dot; },
       "--attention dot differs from the run's none"},
      {[](auto& c) {
         c.attention = s2s::Attention::None;
         c.bidirectional = true;
       },
       "--bidirectional true differs from the run's false"},
      {[&](auto& c) { c.train = dir + "/other/train.csv"; },
       "--train " + dir + "/other/train.csv differs from the run's " + dir + "/train.csv"},
      {[&](auto& c) { c.valid = dir + "/other/valid.csv"; },
       "--valid " + dir + "/other/valid.csv differs from the run's " + dir + "/valid.csv"},
      {[](auto& c) { c.batch = 16; }, "--batch 16 differs from the run's 32"},
      {[](auto& c) { c.bucket_pool = 50; }, "--bucket-pool 50 differs from the run's 0"},
      {[](auto& c) { c.seed = 9; }, "--seed 9 differs from the run's 1"},
  };
  for (const auto& [change, message] : cases) {
    s2s::TrainConfig resumed = config;
    change(resumed);
    EXPECT_EQ(resume_error(resumed), "--resume " + config.out + ": " + message);
  }
  // Attention with input feeding: both flags named.
  s2s::TrainConfig feeding = config;
  feeding.attention = s2s::Attention::General;
  feeding.input_feeding = true;
  EXPECT_EQ(resume_error(feeding), "--resume " + config.out +
                                       ": --attention general differs from the run's none; "
                                       "--input-feeding true differs from the run's false");
}

// The same data file by another name is the same run.
TEST(SafeResume, AnotherPathToTheSameDataFileIsTheSameRun) {
  const std::string dir = temp_dir("resume_path");
  s2s::TrainConfig config = small_run(dir);
  s2s::train(config, quietly());
  s2s::TrainConfig resumed = config;
  resumed.epochs = 2;
  resumed.train = dir + "/./train.csv";
  fs::create_symlink(dir + "/valid.csv", dir + "/valid-link.csv");
  resumed.valid = dir + "/valid-link.csv";
  EXPECT_EQ(s2s::train(resumed, resuming()).epochs_completed, 2);
}

// Settings that do not define the run are applied and recorded in config.json and last.pt, and
// the checkpoints stay loadable.
TEST(SafeResume, SettingsThatMayChangeAreAppliedAndRecorded) {
  const std::string dir = temp_dir("resume_apply");
  s2s::TrainConfig config = small_run(dir);
  s2s::train(config, quietly());
  s2s::TrainConfig resumed = config;
  resumed.epochs = 3;
  resumed.patience = 5;
  resumed.lr = 0.004;
  resumed.lr_schedule = s2s::LrSchedule::Constant;
  resumed.dropout = 0.1;
  resumed.teacher_forcing = 0.9;
  resumed.clip = 2;
  resumed.log_every = 2;
  resumed.valid_batch = 7;
  resumed.impl = s2s::RnnImpl::Torch;
  const s2s::TrainSummary s = s2s::train(resumed, resuming());
  EXPECT_EQ(s.epochs_completed, 3);
  const auto stored = s2s::TrainConfig::from_json(read_text(config.out + "/config.json"), "c");
  EXPECT_EQ(stored.to_json(), resumed.to_json());
  const s2s::LoadedCheckpoint last = s2s::load_checkpoint(config.out + "/last.pt");
  EXPECT_EQ(last.meta.epoch, 3);
  EXPECT_EQ(s2s::TrainConfig::from_json(last.meta.config_json, "last.pt").to_json(),
            resumed.to_json());
  // The constant schedule took over at the new rate (the rate in force scaled by the new --lr).
  const auto lines = lines_of(read_text(config.out + "/metrics.jsonl"));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(lines[2])["lr"].get<double>(), 0.004);
}

// The full-disk failure of issue 16: metrics.jsonl showed an epoch whose last.pt was never
// written. Here last.pt cannot be written (a directory stands in its place, so the rename of the
// temp file fails as on a full disk): the run stops with the error and metrics.jsonl does not
// show the epoch.
TEST(SafeResume, AFailedCheckpointWriteLeavesNoEpochInTheMetrics) {
  const std::string dir = temp_dir("resume_full");
  s2s::TrainConfig config = small_run(dir);
  config.epochs = 2;
  fs::create_directories(config.out + "/last.pt/blocked");
  try {
    s2s::train(config, quietly());
    ADD_FAILURE() << "training went on without its checkpoint";
  } catch (const s2s::Error& e) {
    EXPECT_NE(std::string(e.what()).find(config.out + "/last.pt"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_text(config.out + "/metrics.jsonl"), "");
}

// Writes larger than `bytes` fail (EFBIG) while it lives: a disk that fills up under a run.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &previous_);
    rlimit limit = previous_;
    limit.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &previous_);
    std::signal(SIGXFSZ, previous_handler_);
  }

 private:
  rlimit previous_{};
  void (*previous_handler_)(int) = nullptr;
};

// The disk fills up in epoch 2 of a resumed run: its checkpoint cannot be written, and
// metrics.jsonl still shows exactly the epochs last.pt holds.
TEST(SafeResume, ADiskFullInALaterEpochKeepsMetricsAndLastPtInStep) {
  const std::string dir = temp_dir("resume_disk");
  s2s::TrainConfig config = small_run(dir);
  s2s::train(config, quietly());
  const auto checkpoint_bytes = fs::file_size(config.out + "/last.pt");
  config.epochs = 3;
  try {
    const FileSizeLimit full_disk(checkpoint_bytes / 2);
    s2s::train(config, resuming());
    ADD_FAILURE() << "training went on without its checkpoint";
  } catch (const s2s::Error& e) {
    EXPECT_NE(std::string(e.what()).find(".pt"), std::string::npos) << e.what();
  }
  const auto lines = lines_of(read_text(config.out + "/metrics.jsonl"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["epoch"], 1);
  EXPECT_EQ(s2s::load_checkpoint(config.out + "/last.pt").meta.epoch, 1);

  // With room again, the run resumes from there and the two files keep in step.
  s2s::train(config, resuming());
  ASSERT_EQ(lines_of(read_text(config.out + "/metrics.jsonl")).size(), 3u);
  EXPECT_EQ(s2s::load_checkpoint(config.out + "/last.pt").meta.epoch, 3);
}

}  // namespace
