// TrainConfig's settings one at a time (s2s/run_record.h: train_settings, setting_text,
// set_setting): the description `s2s experiment` derives its grid axes and child flags from.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "s2s/error.h"
#include "s2s/run_record.h"

namespace s2s {
namespace {

std::string error_of(const std::string& key, const std::string& value) {
  TrainConfig c;
  try {
    set_setting(c, key, value);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// The settings are config.json's keys, in its order: one list describes both.
TEST(TrainSettings, AreConfigJsonsKeysInOrder) {
  const auto j = nlohmann::ordered_json::parse(TrainConfig().to_json());
  std::vector<std::string> keys;
  for (const auto& item : j.items()) keys.push_back(item.key());
  std::vector<std::string> settings;
  for (const TrainSetting& s : train_settings()) settings.push_back(s.key);
  EXPECT_EQ(settings, keys);
}

// Every setting's default text is config.json's value, and setting a value and reading it back
// is the identity, for every setting (so a new field is covered without touching this test).
TEST(TrainSettings, TextIsConfigJsonsValueAndRoundTrips) {
  const TrainConfig defaults;
  const auto j = nlohmann::json::parse(defaults.to_json());
  for (const TrainSetting& s : train_settings()) {
    const nlohmann::json& v = j.at(s.key);
    const std::string expected = v.is_string()    ? v.get<std::string>()
                                 : v.is_boolean() ? (v.get<bool>() ? "true" : "false")
                                                  : v.dump();
    if (s.kind == TrainSetting::Kind::Real)
      EXPECT_DOUBLE_EQ(std::stod(s.default_value), v.get<double>()) << s.key;
    else
      EXPECT_EQ(s.default_value, expected) << s.key;
    EXPECT_EQ(setting_text(defaults, s.key), s.default_value) << s.key;
    TrainConfig c;
    set_setting(c, s.key, s.default_value);
    EXPECT_EQ(c.to_json(), defaults.to_json()) << s.key;
  }
}

TEST(TrainSettings, DescribeKindsFlagsAndChoices) {
  const TrainSetting* cell = find_train_setting("cell");
  ASSERT_NE(cell, nullptr);
  EXPECT_EQ(cell->kind, TrainSetting::Kind::Choice);
  EXPECT_EQ(cell->choices, (std::vector<std::string>{"rnn", "lstm", "gru"}));
  EXPECT_EQ(find_train_setting("impl")->flag, "--rnn-impl");
  EXPECT_EQ(find_train_setting("rnn-impl"), find_train_setting("impl"));
  EXPECT_EQ(find_train_setting("--lr-schedule")->key, "lr_schedule");
  EXPECT_EQ(find_train_setting("lr_schedule")->choices,
            (std::vector<std::string>{"constant", "exponential", "plateau", "warmup-cosine"}));
  EXPECT_EQ(find_train_setting("attention")->choices,
            (std::vector<std::string>{"none", "dot", "general", "concat"}));
  EXPECT_EQ(find_train_setting("impl")->choices,
            (std::vector<std::string>{"onednn", "torch", "gemm", "auto"}));
  EXPECT_EQ(find_train_setting("--grad-compression")->choices,
            (std::vector<std::string>{"none", "fp16"}));
  EXPECT_EQ(find_train_setting("grad_compression")->default_value, "none");
  EXPECT_EQ(find_train_setting("ranks")->flag, "");  // written by the trainer, not a flag
  EXPECT_EQ(find_train_setting("train")->kind, TrainSetting::Kind::Path);
  EXPECT_EQ(find_train_setting("bidirectional")->kind, TrainSetting::Kind::Bool);
  EXPECT_EQ(find_train_setting("dropout")->kind, TrainSetting::Kind::Real);
  EXPECT_EQ(find_train_setting("layers")->kind, TrainSetting::Kind::Int);
  EXPECT_EQ(find_train_setting("depth"), nullptr);
  EXPECT_EQ(find_train_setting("layers")->flag_args("2"),
            (std::vector<std::string>{"--layers", "2"}));
  EXPECT_EQ(find_train_setting("bidirectional")->flag_args("true"),
            (std::vector<std::string>{"--bidirectional"}));
  EXPECT_EQ(find_train_setting("bidirectional")->flag_args("false"),
            (std::vector<std::string>{"--bidirectional=false"}));
}

TEST(TrainSettings, SetParsesEachKindAndWritesItCanonically) {
  TrainConfig c;
  set_setting(c, "dropout", "0.50");
  set_setting(c, "lr", "1e-3");
  set_setting(c, "cell", "lstm");
  set_setting(c, "bidirectional", "true");
  set_setting(c, "layers", "2");
  EXPECT_EQ(c.dropout, 0.5);
  EXPECT_EQ(c.cell, Cell::LSTM);
  EXPECT_TRUE(c.bidirectional);
  EXPECT_EQ(c.layers, 2);
  EXPECT_EQ(setting_text(c, "dropout"), "0.5");
  EXPECT_EQ(setting_text(c, "lr"), "0.001");
  EXPECT_EQ(setting_text(c, "bidirectional"), "true");
}

TEST(TrainSettings, BadValuesAreOneLineErrorsNamingTheSetting) {
  EXPECT_EQ(error_of("layers", "1.5"), "layers must be a whole number, got '1.5'");
  EXPECT_EQ(error_of("layers", ""), "layers must be a whole number, got ''");
  EXPECT_EQ(error_of("layers", "99999999999999999999"),
            "layers must be a whole number, got '99999999999999999999'");
  EXPECT_EQ(error_of("dropout", "x"), "dropout must be a number, got 'x'");
  EXPECT_EQ(error_of("dropout", "inf"), "dropout must be a number, got 'inf'");
  EXPECT_EQ(error_of("bidirectional", "1"), "bidirectional must be true or false, got '1'");
  EXPECT_EQ(error_of("cell", "transformer"),
            "unknown cell 'transformer': expected gru, lstm or rnn");
  EXPECT_EQ(error_of("depth", "2"), "unknown setting 'depth'");
}

}  // namespace
}  // namespace s2s
