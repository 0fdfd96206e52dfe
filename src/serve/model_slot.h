// One served model: its file, the Predictor answering now (swapped whole on reload), and its
// batcher. Requests take a shared_ptr to the current Predictor when they are admitted, so a
// reload never pulls a model out from under a request.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "s2s/decode.h"
#include "s2s/serve.h"
#include "serve/batcher.h"

namespace s2s::serve {

class ModelSlot {
 public:
  // Loads the model (s2s::Error naming the file when it does not load) and warms it up.
  ModelSlot(ModelSpec spec, Precision precision);

  const std::string& name() const { return spec_.name; }
  std::shared_ptr<Predictor> current() const;
  // Loads the file again; on success the new model serves every request admitted afterwards.
  // On failure the old one stays and the result carries the reason.
  ReloadResult reload();
  // name, path, vocab_size, config, loads, loaded_at, last_reload_error (GET /v1/models).
  std::string info_json() const;

  std::unique_ptr<Batcher> batcher;  // set by the server once the model loaded

 private:
  std::shared_ptr<Predictor> load() const;

  ModelSpec spec_;
  Precision precision_;
  mutable std::mutex mutex_;  // guards everything below
  std::shared_ptr<Predictor> current_;
  int64_t loads_ = 0;
  std::string loaded_at_;
  std::string last_reload_error_;
};

}  // namespace s2s::serve
