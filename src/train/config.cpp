#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <type_traits>

#include "s2s/cell.h"
#include "s2s/error.h"
#include "s2s/trainer.h"

namespace s2s {

// clang-format 14 reflows this macro differently on every run, so it is left as written.
// clang-format off
#define S2S_CONFIG_FIELDS(X)                                                        \
  X(train) X(valid) X(out)                                                          \
  X(cell) X(layers) X(hidden) X(dropout) X(impl) X(precision)                       \
  X(epochs) X(batch) X(lr) X(lr_decay) X(teacher_forcing) X(clip) X(seed)           \
  X(threads) X(patience) X(valid_batch)
// clang-format on

namespace {

// nlohmann converts a JSON float to an integer with a plain cast, undefined behaviour when it
// does not fit ("layers": 1e30; found by fuzz/config_fuzz.cpp), and an unsigned beyond int64 wraps
// to a negative number. Integer settings therefore take JSON integers within int64 only.
template <class T>
void read_setting(const nlohmann::json& value, T& out) {
  if constexpr (std::is_integral_v<T>) {
    const bool fits =
        value.is_number_integer() &&
        (!value.is_number_unsigned() ||
         value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max()));
    if (!fits) throw nlohmann::json::other_error::create(0, "not an int64", &value);
  }
  value.get_to(out);
}

}  // namespace

std::string TrainConfig::to_json() const {
  nlohmann::ordered_json j;
#define S2S_WRITE(name) j[#name] = name;
  S2S_CONFIG_FIELDS(S2S_WRITE)
#undef S2S_WRITE
  return j.dump(2);
}

TrainConfig TrainConfig::from_json(const std::string& text, const std::string& source) {
  TrainConfig c;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": not valid JSON: " + std::string(e.what()));
  }
  if (!j.is_object()) throw Error(source + ": expected a JSON object of settings");
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
    }
    throw Error(source + ": unknown setting '" + key + "'");
  }
  return c;
}

void TrainConfig::validate() const {
  const auto need = [](bool ok, const std::string& what) {
    if (!ok) throw Error(what);
  };
  need(!train.empty(), "--train is required");
  need(!valid.empty(), "--valid is required");
  need(!out.empty(), "--out is required");
  parse_cell(cell);
  parse_precision(precision);
  need(precision != "bf16" || parse_rnn_impl(impl) == RnnImpl::OneDNN,
       "--precision bf16 needs --rnn-impl onednn (the stock torch RNNs run in f32 only)");
  need(layers >= 1 && layers <= 64, "--layers must be between 1 and 64");
  need(hidden >= 1 && hidden <= 16384, "--hidden must be between 1 and 16384");
  need(dropout >= 0 && dropout < 1, "--dropout must be in [0, 1)");
  need(epochs >= 1, "--epochs must be at least 1");
  need(batch >= 1, "--batch must be at least 1");
  need(valid_batch >= 1, "valid_batch must be at least 1");
  need(lr > 0 && lr < 10, "--lr must be in (0, 10)");
  need(lr_decay > 0 && lr_decay <= 1, "--lr-decay must be in (0, 1]");
  need(teacher_forcing >= 0 && teacher_forcing <= 1, "--teacher-forcing must be in [0, 1]");
  need(clip >= 0, "--clip must be >= 0 (0 disables clipping)");
  need(threads >= 0, "--threads must be 0 (automatic: cores - 1) or a positive count");
  need(patience >= 0, "--patience must be >= 0 (0 disables early stopping)");
  need(seed >= 0, "--seed must be >= 0");
}

std::string to_string(StopReason reason) {
  switch (reason) {
    case StopReason::Completed:
      return "completed";
    case StopReason::EarlyStopping:
      return "early_stopping";
    case StopReason::Interrupted:
      return "interrupted";
    case StopReason::NonFiniteLoss:
      return "non_finite_loss";
  }
  return "?";
}

}  // namespace s2s
