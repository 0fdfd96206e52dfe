// Fuzzes a run's configuration JSON (TrainConfig::from_json and validate, src/run/config.cpp):
// what `s2s train --config`, `--resume` and the run readers parse.
// Checks: only s2s::Error escapes; an accepted configuration writes back (to_json) to JSON that
// reads to the same configuration.
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "s2s/error.h"
#include "s2s/run_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  s2s::TrainConfig config;
  try {
    config = s2s::TrainConfig::from_json(text, "config.json");
  } catch (const s2s::Error& e) {
    S2S_FUZZ_REQUIRE(std::string(e.what()).rfind("config.json: ", 0) == 0);
    return 0;
  }
  const std::string json = config.to_json();
  S2S_FUZZ_REQUIRE(s2s::TrainConfig::from_json(json, "again").to_json() == json);
  try {
    config.validate();
  } catch (const s2s::Error&) {
  }
  return 0;
}
