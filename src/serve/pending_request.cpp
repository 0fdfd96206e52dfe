#include "serve/pending_request.h"

namespace s2s::serve {

PendingRequest::PendingRequest(std::shared_ptr<Predictor> model, int64_t n_best, size_t sentences)
    : model_(std::move(model)), n_best_(n_best), results_(sentences), remaining_(sentences) {}

void PendingRequest::complete(size_t index, std::vector<Prediction> hypotheses) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (abandoned_ || index >= results_.size()) return;
  results_[index] = std::move(hypotheses);
  if (--remaining_ == 0) done_.notify_all();
}

void PendingRequest::fail(int status, const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (abandoned_) return;
  abandoned_ = true;
  status_ = status;
  message_ = message;
  done_.notify_all();
}

PendingRequest::Outcome PendingRequest::wait_until(Clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  const bool ended =
      done_.wait_until(lock, deadline, [&] { return remaining_ == 0 || abandoned_; });
  if (!ended) {
    abandoned_ = true;
    return Outcome::TimedOut;
  }
  return status_ == 200 ? Outcome::Done : Outcome::Failed;
}

bool PendingRequest::abandoned() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return abandoned_;
}

}  // namespace s2s::serve
