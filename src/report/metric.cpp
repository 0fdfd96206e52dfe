#include "report/metric.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "s2s/error.h"

namespace s2s::report {

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names{"sentence_error_rate", "token_error_rate",
                                              "exact_match", "token_acc", "loss"};
  return names;
}

Metric parse_metric(const std::string& name) {
  const auto& names = metric_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (name == names[i]) return static_cast<Metric>(i);
  std::string known;
  for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
  throw Error(fmt::format("--metric: unknown metric '{}' (known: {})", name, known));
}

std::string to_string(Metric metric) {
  return metric_names().at(static_cast<std::size_t>(metric));
}

bool higher_is_better(Metric metric) {
  return metric == Metric::ExactMatch || metric == Metric::TokenAcc;
}

double EvalNumbers::value(Metric metric) const {
  switch (metric) {
    case Metric::SentenceErrorRate:
      return sentence_error_rate;
    case Metric::TokenErrorRate:
      return token_error_rate;
    case Metric::ExactMatch:
      return exact_match;
    case Metric::TokenAcc:
      return token_acc;
    case Metric::Loss:
      return loss;
  }
  return 0;
}

std::string EvalNumbers::to_json() const {
  return nlohmann::json{{"loss", loss},
                        {"seq_acc", exact_match},
                        {"token_acc", token_acc},
                        {"token_error_rate", token_error_rate},
                        {"sentence_error_rate", sentence_error_rate},
                        {"rows", rows},
                        {"sentences", sentences}}
      .dump();
}

std::optional<EvalNumbers> EvalNumbers::parse(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  for (const char* key : {"loss", "seq_acc", "token_acc", "token_error_rate", "sentence_error_rate",
                          "rows", "sentences"})
    if (!j.contains(key) || !j[key].is_number()) return std::nullopt;
  EvalNumbers n;
  n.loss = j["loss"].get<double>();
  n.exact_match = j["seq_acc"].get<double>();
  n.token_acc = j["token_acc"].get<double>();
  n.token_error_rate = j["token_error_rate"].get<double>();
  n.sentence_error_rate = j["sentence_error_rate"].get<double>();
  n.rows = j["rows"].get<int64_t>();
  n.sentences = j["sentences"].get<int64_t>();
  return n;
}

}  // namespace s2s::report
