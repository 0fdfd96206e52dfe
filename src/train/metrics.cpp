#include "s2s/metrics.h"

#include <nlohmann/json.hpp>

namespace s2s {

std::string Tally::to_json() const {
  return nlohmann::json{{"loss_sum", loss_sum},
                        {"tokens", tokens},
                        {"correct_tokens", correct_tokens},
                        {"seqs", seqs},
                        {"correct_seqs", correct_seqs}}
      .dump();
}

Tally Tally::from_json(const std::string& text) {
  const auto j = nlohmann::json::parse(text);
  Tally t;
  t.loss_sum = j.at("loss_sum").get<double>();
  t.tokens = j.at("tokens").get<int64_t>();
  t.correct_tokens = j.at("correct_tokens").get<int64_t>();
  t.seqs = j.at("seqs").get<int64_t>();
  t.correct_seqs = j.at("correct_seqs").get<int64_t>();
  return t;
}

}  // namespace s2s
