// One translate request's sentences while they are decoded: the HTTP thread that admitted it
// waits here, the batcher fills in results sentence by sentence (possibly from several
// batches) and wakes it when the last one is in.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "s2s/decode.h"

namespace s2s::serve {

using Clock = std::chrono::steady_clock;

class PendingRequest {
 public:
  // `model` is pinned for the whole request: a reload meanwhile does not mix two models in
  // one answer.
  PendingRequest(std::shared_ptr<Predictor> model, int64_t n_best, size_t sentences);

  const std::shared_ptr<Predictor>& model() const { return model_; }
  int64_t n_best() const { return n_best_; }

  // The batcher's side. Both are ignored once the request has failed or timed out.
  void complete(size_t index, std::vector<Prediction> hypotheses);
  void fail(int status, const std::string& message);

  enum class Outcome { Done, Failed, TimedOut };
  // The handler's side: blocks until every sentence is complete, the request failed, or
  // `deadline` passed (then the request is marked abandoned, and complete() ignores it).
  Outcome wait_until(Clock::time_point deadline);
  bool abandoned() const;

  // Valid after wait_until returned Done (results) or Failed (status, message).
  std::vector<std::vector<Prediction>>& results() { return results_; }
  int status() const { return status_; }
  const std::string& message() const { return message_; }

 private:
  std::shared_ptr<Predictor> model_;
  int64_t n_best_;
  mutable std::mutex mutex_;
  std::condition_variable done_;
  std::vector<std::vector<Prediction>> results_;
  size_t remaining_;
  bool abandoned_ = false;
  int status_ = 200;
  std::string message_;
};

}  // namespace s2s::serve
