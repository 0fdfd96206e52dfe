#include "serve/model_slot.h"

#include <time.h>

#include <ctime>
#include <exception>
#include <nlohmann/json.hpp>

namespace s2s::serve {

using nlohmann::json;

namespace {

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace

ModelSlot::ModelSlot(ModelSpec spec, Precision precision)
    : spec_(std::move(spec)), precision_(precision) {
  current_ = load();
  loads_ = 1;
  loaded_at_ = utc_now();
}

std::shared_ptr<Predictor> ModelSlot::load() const {
  auto model = std::make_shared<Predictor>(spec_.path, precision_);
  // One decode before the model serves: oneDNN builds its primitives on first use, and that
  // cost belongs to loading, not to the first user's request.
  if (model->vocab().size() > kNumSpecialTokens) {
    model->predict_n_best({{model->vocab().token(kNumSpecialTokens)}});
  }
  return model;
}

std::shared_ptr<Predictor> ModelSlot::current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_;
}

ReloadResult ModelSlot::reload() {
  ReloadResult result{spec_.name, false, ""};
  try {
    auto fresh = load();
    std::lock_guard<std::mutex> lock(mutex_);
    current_ = std::move(fresh);
    ++loads_;
    loaded_at_ = utc_now();
    last_reload_error_.clear();
    result.ok = true;
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    last_reload_error_ = e.what();
    result.error = e.what();
  }
  return result;
}

std::string ModelSlot::info_json() const {
  std::lock_guard<std::mutex> lock(mutex_);
  json config = json::parse(current_->config_json(), nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded()) config = nullptr;
  json info = {
      {"name", spec_.name},
      {"path", spec_.path},
      {"vocab_size", current_->vocab().size()},
      {"config", config},
      {"loads", loads_},
      {"loaded_at", loaded_at_},
      {"last_reload_error", last_reload_error_.empty() ? json(nullptr) : json(last_reload_error_)}};
  return info.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace s2s::serve
