#include "s2s/error_rates.h"

#include "s2s/edit_distance.h"
#include "s2s/error.h"

namespace s2s {

double ErrorRates::token_error_rate() const {
  return reference_tokens > 0 ? static_cast<double>(token_errors) / reference_tokens : 0.0;
}

double ErrorRates::sentence_error_rate() const {
  return sentences > 0 ? static_cast<double>(wrong_sentences) / sentences : 0.0;
}

void ErrorRates::add(const std::vector<std::string>& hypothesis,
                     const std::vector<std::vector<std::string>>& references) {
  if (references.empty()) throw Error("ErrorRates::add: a sentence needs a reference");
  int64_t best_errors = -1, best_length = 0;
  for (const auto& reference : references) {
    const int64_t errors = edit_distance(hypothesis, reference);
    const auto length = static_cast<int64_t>(reference.size());
    if (best_errors < 0 || errors < best_errors ||
        (errors == best_errors && length > best_length)) {
      best_errors = errors;
      best_length = length;
    }
  }
  ++sentences;
  wrong_sentences += best_errors > 0;
  token_errors += best_errors;
  reference_tokens += best_length;
}

}  // namespace s2s
