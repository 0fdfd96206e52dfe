// EpochRecord <-> one line of DIR/metrics.jsonl.
#include <limits>
#include <nlohmann/json.hpp>

#include "s2s/run_record.h"

namespace s2s {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The record's numbers and their keys, listed once for the writer and the reader.
// clang-format off
#define S2S_EPOCH_NUMBERS(X)                                            \
  X(train_loss) X(train_token_acc) X(train_seq_acc)                     \
  X(valid_loss) X(valid_token_acc) X(valid_seq_acc)                     \
  X(epoch_seconds) X(train_pairs_per_second) X(lr) X(elapsed_seconds)
// clang-format on

}  // namespace

EpochRecord::EpochRecord()
    : train_loss(kNaN),
      train_token_acc(kNaN),
      train_seq_acc(kNaN),
      valid_loss(kNaN),
      valid_token_acc(kNaN),
      valid_seq_acc(kNaN),
      epoch_seconds(kNaN),
      train_pairs_per_second(kNaN),
      lr(kNaN),
      elapsed_seconds(kNaN) {}

std::string EpochRecord::to_json() const {
  nlohmann::json j;  // keys sorted, as metrics.jsonl has always been written
  j["epoch"] = epoch;
#define S2S_WRITE(name) j[#name] = name;
  S2S_EPOCH_NUMBERS(S2S_WRITE)
#undef S2S_WRITE
  return j.dump();
}

std::optional<EpochRecord> EpochRecord::parse(const std::string& line) {
  // allow_exceptions=false: garbage yields a discarded value instead of a throw.
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  const auto e = j.find("epoch");
  if (e == j.end() || !e->is_number_integer()) return std::nullopt;
  const auto epoch = e->get<int64_t>();
  if (epoch < 0 || epoch > std::numeric_limits<int>::max()) return std::nullopt;
  EpochRecord m;
  m.epoch = static_cast<int>(epoch);
  const auto number = [&](const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : kNaN;
  };
#define S2S_READ(name) m.name = number(#name);
  S2S_EPOCH_NUMBERS(S2S_READ)
#undef S2S_READ
  return m;
}

}  // namespace s2s
