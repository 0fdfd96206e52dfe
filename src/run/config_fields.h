// TrainConfig's fields, listed once (S2S_CONFIG_FIELDS), and how its enums are written in JSON.
// config.cpp reads and writes config.json through this list and settings.cpp describes each
// setting (key, flag, kind) from it, so a new field is one line here plus its default in
// s2s/run_record.h. Private to src/run/.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "s2s/cell.h"
#include "s2s/run_record.h"

namespace s2s {

// Enums are written as the flag values users type ("gru", "onednn", "bf16", "plateau") and
// read back through the same parsers, so config.json from before the enums loads unchanged.
// Templates over the JSON type (json and ordered_json), and more specialised than
// nlohmann's own enum conversion, which would write the enum's number.
#define S2S_ENUM_JSON(Enum, parse)            \
  template <class Json>                       \
  void to_json(Json& j, Enum v) {             \
    j = to_string(v);                         \
  }                                           \
  template <class Json>                       \
  void from_json(const Json& j, Enum& v) {    \
    v = parse(j.template get<std::string>()); \
  }
S2S_ENUM_JSON(Cell, parse_cell)
S2S_ENUM_JSON(RnnImpl, parse_rnn_impl)
S2S_ENUM_JSON(Precision, parse_precision)
S2S_ENUM_JSON(LrSchedule, parse_lr_schedule)
S2S_ENUM_JSON(Attention, parse_attention)
S2S_ENUM_JSON(DirectionMerge, parse_direction_merge)
S2S_ENUM_JSON(GradCompression, parse_grad_compression)
#undef S2S_ENUM_JSON

// clang-format 14 reflows this macro differently on every run, so it is left as written.
// clang-format off
#define S2S_CONFIG_FIELDS(X)                                                        \
  X(train) X(valid) X(out)                                                          \
  X(cell) X(layers) X(hidden) X(dropout) X(impl) X(precision)                       \
  X(attention) X(input_feeding) X(bidirectional) X(bidirectional_merge)             \
  X(epochs) X(time_budget) X(batch) X(bucket_pool) X(lr) X(lr_schedule) X(lr_decay) X(lr_patience) \
  X(warmup_steps) X(warmup_epochs) X(teacher_forcing) X(label_smoothing) X(clip) X(ema_epochs) X(seed) \
  X(threads) X(patience) X(valid_batch) X(log_every) X(accumulate)                  \
  X(grad_compression) X(ranks)
// clang-format on

}  // namespace s2s
