// Predictor: a checkpoint loaded once, answering token sequences (include/s2s/decode.h).
#include "infer/search_sources.h"
#include "s2s/checkpoint.h"
#include "s2s/decode.h"

namespace s2s {

struct Predictor::Impl {
  LoadedModels loaded;
  int64_t unknown = 0;
};

Predictor::Predictor(const std::string& model_path, Precision precision)
    : Predictor(std::vector<std::string>{model_path}, precision) {}

Predictor::Predictor(const std::vector<std::string>& model_paths, Precision precision)
    : impl_(std::make_unique<Impl>()) {
  impl_->loaded = load_models(model_paths, precision);
}

Predictor::~Predictor() = default;

int64_t Predictor::unknown_tokens() const {
  return impl_->unknown;
}

const Vocab& Predictor::vocab() const {
  return impl_->loaded.vocab;
}

const std::string& Predictor::config_json() const {
  return impl_->loaded.meta.config_json;
}

std::vector<std::vector<Prediction>> Predictor::predict_n_best(
    const std::vector<std::vector<std::string>>& sources, const SearchOptions& search,
    int64_t batch) {
  return search_sources(impl_->loaded.models, impl_->loaded.vocab, sources, search, batch,
                        &impl_->unknown);
}

std::vector<std::vector<std::string>> Predictor::predict(
    const std::vector<std::vector<std::string>>& sources, const SearchOptions& search,
    int64_t batch) {
  SearchOptions best = search;
  best.n_best = 1;
  std::vector<std::vector<std::string>> out;
  out.reserve(sources.size());
  for (auto& predictions : predict_n_best(sources, best, batch)) {
    out.push_back(predictions.empty() ? std::vector<std::string>{}
                                      : std::move(predictions.front().tokens));
  }
  return out;
}

}  // namespace s2s
