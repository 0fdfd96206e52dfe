// StepRecord <-> one line of DIR/steps.jsonl.
#include <nlohmann/json.hpp>

#include "s2s/run_record.h"

namespace s2s {

std::string StepRecord::to_json() const {
  return nlohmann::ordered_json{{"step", step},
                                {"epoch", epoch},
                                {"epoch_fraction", epoch_fraction},
                                {"train_loss", train_loss},
                                {"tokens_per_second", tokens_per_second},
                                {"lr", lr}}
      .dump();
}

std::optional<StepRecord> StepRecord::parse(const std::string& line) {
  const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  const auto integer = [&](const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number_integer();
  };
  const auto number = [&](const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
  };
  const auto loss = j.find("train_loss");
  if (!integer("step") || !integer("epoch") || loss == j.end() || !loss->is_number())
    return std::nullopt;
  StepRecord r;
  r.step = j["step"].get<int64_t>();
  r.epoch = j["epoch"].get<int64_t>();
  r.epoch_fraction = number("epoch_fraction");
  r.train_loss = loss->get<double>();
  r.tokens_per_second = number("tokens_per_second");
  r.lr = number("lr");
  return r;
}

}  // namespace s2s
