// config.json as TrainConfig::from_json reads it: the inputs fuzz/config_fuzz.cpp found.
#include <gtest/gtest.h>

#include <string>

#include "s2s/error.h"
#include "s2s/run_record.h"

namespace s2s {
namespace {

std::string config_error(const std::string& json) {
  try {
    TrainConfig::from_json(json, "run/config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Found by fuzz/config_fuzz.cpp: {"layers": 7.7e23} went through nlohmann's float-to-integer
// cast, undefined behaviour (UBSan: "outside the range of representable values of type
// 'long'"); an unsigned beyond int64 wrapped to a negative number. Both are now wrong types.
TEST(ConfigJson, IntegerSettingsTakeOnlyIntegersThatFitInt64) {
  EXPECT_EQ(config_error("{\"layers\": 7.7e23}"),
            "run/config.json: setting 'layers' has the wrong type (number)");
  EXPECT_EQ(config_error("{\"hidden\": 2.5}"),
            "run/config.json: setting 'hidden' has the wrong type (number)");
  EXPECT_EQ(config_error("{\"seed\": 18446744073709551615}"),
            "run/config.json: setting 'seed' has the wrong type (number)");
  EXPECT_EQ(config_error("{\"epochs\": \"3\"}"),
            "run/config.json: setting 'epochs' has the wrong type (string)");
  // What is right still reads: integers (also the largest int64) and integers for floats.
  const TrainConfig c =
      TrainConfig::from_json("{\"layers\": 3, \"seed\": 9223372036854775807, \"lr\": 1}", "c");
  EXPECT_EQ(c.layers, 3);
  EXPECT_EQ(c.seed, 9223372036854775807);
  EXPECT_DOUBLE_EQ(c.lr, 1.0);
}

}  // namespace
}  // namespace s2s
