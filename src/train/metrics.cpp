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

std::string EpochMetrics::to_json() const {
  return nlohmann::json{{"epoch", epoch},
                        {"train_loss", train_loss},
                        {"train_token_acc", train_token_acc},
                        {"train_seq_acc", train_seq_acc},
                        {"valid_loss", valid_loss},
                        {"valid_token_acc", valid_token_acc},
                        {"valid_seq_acc", valid_seq_acc},
                        {"epoch_seconds", epoch_seconds},
                        {"train_pairs_per_second", train_pairs_per_second},
                        {"lr", lr},
                        {"elapsed_seconds", elapsed_seconds}}
      .dump();
}

EpochMetrics EpochMetrics::from_json(const std::string& text) {
  const auto j = nlohmann::json::parse(text);
  EpochMetrics m;
  m.epoch = j.at("epoch").get<int64_t>();
  m.train_loss = j.at("train_loss").get<double>();
  m.train_token_acc = j.at("train_token_acc").get<double>();
  m.train_seq_acc = j.at("train_seq_acc").get<double>();
  m.valid_loss = j.at("valid_loss").get<double>();
  m.valid_token_acc = j.at("valid_token_acc").get<double>();
  m.valid_seq_acc = j.at("valid_seq_acc").get<double>();
  m.epoch_seconds = j.at("epoch_seconds").get<double>();
  m.train_pairs_per_second = j.value("train_pairs_per_second", 0.0);
  m.lr = j.at("lr").get<double>();
  m.elapsed_seconds = j.value("elapsed_seconds", 0.0);
  return m;
}

}  // namespace s2s
