// TrainConfig <-> config.json, and the checks a configuration must pass before training.
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "run/config_fields.h"
#include "s2s/error.h"
#include "s2s/run_record.h"

namespace s2s {

namespace {

// nlohmann converts a JSON float to an integer with a plain cast, undefined behaviour when it
// does not fit ("layers": 1e30; found by fuzz/config_fuzz.cpp), and an unsigned beyond int64 wraps
// to a negative number. Integer settings therefore take JSON integers within int64 only.
template <class T>
void read_setting(const nlohmann::json& value, T& out) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {  // bool: JSON true/false
    const bool fits =
        value.is_number_integer() &&
        (!value.is_number_unsigned() ||
         value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max()));
    if (!fits) throw nlohmann::json::other_error::create(0, "not an int64", &value);
  }
  value.get_to(out);
}

}  // namespace

LrSchedule parse_lr_schedule(const std::string& name) {
  if (name == "constant") return LrSchedule::Constant;
  if (name == "exponential") return LrSchedule::Exponential;
  if (name == "plateau") return LrSchedule::Plateau;
  if (name == "warmup-cosine") return LrSchedule::WarmupCosine;
  throw Error("unknown learning-rate schedule '" + name +
              "': expected constant, exponential, plateau or warmup-cosine");
}

std::string to_string(LrSchedule schedule) {
  switch (schedule) {
    case LrSchedule::Constant:
      return "constant";
    case LrSchedule::Exponential:
      return "exponential";
    case LrSchedule::Plateau:
      return "plateau";
    case LrSchedule::WarmupCosine:
      return "warmup-cosine";
  }
  return "?";
}

GradCompression parse_grad_compression(const std::string& name) {
  if (name == "none") return GradCompression::None;
  if (name == "fp16") return GradCompression::Fp16;
  throw Error("unknown gradient compression '" + name + "': expected none or fp16");
}

std::string to_string(GradCompression compression) {
  switch (compression) {
    case GradCompression::None:
      return "none";
    case GradCompression::Fp16:
      return "fp16";
  }
  return "?";
}

std::string TrainConfig::to_json() const {
  nlohmann::ordered_json j;
#define S2S_WRITE(name) j[#name] = name;
  S2S_CONFIG_FIELDS(S2S_WRITE)
#undef S2S_WRITE
  return j.dump(2);
}

TrainConfig TrainConfig::from_json(const std::string& text, const std::string& source,
                                   bool skip_unknown_keys) {
  TrainConfig c;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": not valid JSON: " + std::string(e.what()));
  }
  if (!j.is_object()) throw Error(source + ": expected a JSON object of settings");
  // Runs from before --lr-schedule decayed exponentially, whatever today's default is.
  if (!j.contains("lr_schedule")) c.lr_schedule = LrSchedule::Exponential;
  if (j.contains("warmup_steps") && !j.contains("warmup_epochs")) c.warmup_epochs = 0;
  if (!j.contains("ema_epochs")) c.ema_epochs = 0;  // runs from before weight smoothing had none
  for (const auto& [key, value] : j.items()) {
    try {
#define S2S_READ(name)           \
  if (key == #name) {            \
    read_setting(value, c.name); \
    continue;                    \
  }
      S2S_CONFIG_FIELDS(S2S_READ)
#undef S2S_READ
    } catch (const nlohmann::json::exception&) {
      throw Error(source + ": setting '" + key + "' has the wrong type (" +
                  std::string(value.type_name()) + ")");
    } catch (const Error& e) {
      throw Error(source + ": setting '" + key + "': " + e.what());
    }
    if (!skip_unknown_keys) throw Error(source + ": unknown setting '" + key + "'");
  }
  return c;
}

namespace {

void need(bool ok, const std::string& what) {
  if (!ok) throw Error(what);
}

}  // namespace

void TrainConfig::validate() const {
  need(!train.empty(), "--train is required");
  need(!valid.empty(), "--valid is required");
  need(!out.empty(), "--out is required");
  validate_settings();
}

void TrainConfig::validate_settings() const {
  need(precision != Precision::BF16 || impl != RnnImpl::Torch, kBf16NeedsOwnKernels);
  need(attention != Attention::None || !input_feeding,
       "--input-feeding needs --attention (dot, general or concat)");
  need(bidirectional || bidirectional_merge == DirectionMerge::Sum,
       "--bidirectional-merge concat needs --bidirectional");
  need(bidirectional_merge == DirectionMerge::Sum || hidden % 2 == 0,
       "--bidirectional-merge concat needs an even --hidden (each direction is half of it)");
  need(layers >= 1 && layers <= 64, "--layers must be between 1 and 64");
  need(hidden >= 1 && hidden <= 16384, "--hidden must be between 1 and 16384");
  need(dropout >= 0 && dropout < 1, "--dropout must be in [0, 1)");
  need(epochs >= 1, "--epochs must be at least 1");
  need(std::isfinite(time_budget) && time_budget >= 0,
       "--time-budget must be >= 0 minutes (0: no limit)");
  need(batch >= 1, "--batch must be at least 1");
  need(bucket_pool >= 0, "--bucket-pool must be >= 0 (0: no length bucketing)");
  need(accumulate >= 1, "--accumulate must be at least 1");
  need(ranks >= 1, "ranks must be at least 1");
  need(valid_batch >= 1, "valid_batch must be at least 1");
  need(lr > 0 && lr < 10, "--lr must be in (0, 10)");
  need(lr_decay > 0 && lr_decay <= 1, "--lr-decay must be in (0, 1]");
  need(lr_patience >= 1, "--lr-patience must be at least 1");
  need(warmup_steps >= 0, "--warmup-steps must be >= 0");
  need(warmup_epochs >= 0, "--warmup-epochs must be >= 0");
  need(teacher_forcing >= 0 && teacher_forcing <= 1, "--teacher-forcing must be in [0, 1]");
  need(label_smoothing >= 0 && label_smoothing < 1, "--label-smoothing must be in [0, 1)");
  need(clip >= 0, "--clip must be >= 0 (0 disables clipping)");
  need(ema_epochs >= 0 && ema_epochs <= 1000,
       "--ema-epochs must be in [0, 1000] (0: no weight smoothing)");
  need(threads >= 0, "--threads must be auto (0: one per idle core) or a positive count");
  need(patience >= 0, "--patience must be >= 0 (0 disables early stopping)");
  need(seed >= 0, "--seed must be >= 0");
  need(log_every >= 0, "--log-every must be >= 0 (0: no step log)");
}

}  // namespace s2s
