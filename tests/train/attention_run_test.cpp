// Attention settings are part of a run: written to config.json and into checkpoints, restored
// on load and resume; runs and checkpoints from before attention existed load as `none`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "s2s/checkpoint.h"
#include "s2s/error.h"
#include "s2s/trainer.h"
#include "test_util.h"

namespace {

using s2s::testing::read_text;
using s2s::testing::temp_dir;
using s2s::testing::write_copy_task;

s2s::TrainConfig attention_config(const std::string& dir) {
  s2s::TrainConfig c = s2s::testing::config_for_dir(dir);
  c.layers = 2;
  c.hidden = 16;
  c.epochs = 1;
  c.threads = 1;
  c.attention = s2s::Attention::Concat;
  c.input_feeding = true;
  c.bidirectional = true;
  return c;
}

TEST(AttentionRun, CheckpointsStoreAndRestoreTheAttentionSettings) {
  const std::string dir = temp_dir("attention");
  write_copy_task(dir, 100, 20);
  s2s::TrainConfig config = attention_config(dir);
  ASSERT_EQ(s2s::train(config).reason, s2s::RunStatus::Completed);
  const auto saved = nlohmann::json::parse(read_text(config.out + "/config.json"));
  EXPECT_EQ(saved["attention"], "concat");
  EXPECT_EQ(saved["input_feeding"], true);
  EXPECT_EQ(saved["bidirectional"], true);
  for (const char* file : {"/last.pt", "/best.pt"}) {
    const auto ck = s2s::load_checkpoint(config.out + file);
    EXPECT_EQ(ck.model->options.attention(), s2s::Attention::Concat) << file;
    EXPECT_TRUE(ck.model->options.input_feeding()) << file;
    EXPECT_TRUE(ck.model->options.bidirectional()) << file;
    EXPECT_TRUE(ck.model->named_parameters().contains("attn.v.weight")) << file;
  }
  // What `s2s train --resume DIR` does: the settings come back from DIR/config.json.
  s2s::TrainConfig resumed = s2s::TrainConfig::from_json(read_text(config.out + "/config.json"),
                                                         config.out + "/config.json");
  EXPECT_EQ(resumed.attention, s2s::Attention::Concat);
  resumed.epochs = 2;
  s2s::TrainOptions resume;
  resume.resume = true;
  resume.handle_signals = false;
  EXPECT_EQ(s2s::train(resumed, resume).epochs_completed, 2);
}

TEST(AttentionRun, ConfigurationsAndCheckpointsFromBeforeAttentionLoadAsNone) {
  const auto old_config = s2s::TrainConfig::from_json("{}", "old.json");
  EXPECT_EQ(old_config.attention, s2s::Attention::None);
  EXPECT_FALSE(old_config.input_feeding);
  EXPECT_FALSE(old_config.bidirectional);
  // A checkpoint as earlier versions wrote it: its config has no attention keys.
  const std::string dir = temp_dir("old_checkpoint");
  const std::string json = R"({"cell": "gru", "hidden": 8, "layers": 2, "dropout": 0.1})";
  s2s::Vocab vocab;
  vocab.add("7");
  s2s::Seq2Seq model(s2s::model_options_from_config(json, vocab.size(), "old"));
  s2s::CheckpointMeta meta;
  meta.config_json = json;
  meta.state_json = "{}";
  s2s::save_checkpoint(dir + "/old.pt", model, vocab, meta);
  const auto ck = s2s::load_checkpoint(dir + "/old.pt");
  EXPECT_EQ(ck.model->options.attention(), s2s::Attention::None);
  EXPECT_FALSE(ck.model->options.input_feeding());
  EXPECT_FALSE(ck.model->options.bidirectional());
  EXPECT_FALSE(ck.model->attn);
  EXPECT_EQ(ck.model->named_parameters().size(), 4u + 2u * 4u * 2u);
}

TEST(AttentionRun, BadAttentionSettingsAreOneLineErrors) {
  try {
    s2s::TrainConfig::from_json(R"({"attention": "bahdanau"})", "run/config.json");
    FAIL() << "no error";
  } catch (const s2s::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("run/config.json"), std::string::npos) << what;
    EXPECT_NE(what.find("unknown attention 'bahdanau': expected none, dot, general or concat"),
              std::string::npos)
        << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  s2s::TrainConfig config = attention_config(temp_dir("bad_attention"));
  config.attention = s2s::Attention::None;
  try {
    config.validate();
    FAIL() << "no error";
  } catch (const s2s::Error& e) {
    EXPECT_STREQ(e.what(), "--input-feeding needs --attention (dot, general or concat)");
  }
}

}  // namespace
