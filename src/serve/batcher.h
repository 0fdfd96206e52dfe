// Dynamic batching for one model: a bounded queue of sentences and one thread that decodes
// them in batches. A batch starts when the queue holds max_batch sentences or its oldest
// sentence has waited max_delay; it takes the oldest max_batch sentences, whichever requests
// they belong to, so a large request may be split across batches (PendingRequest puts the
// results back in order). Sentences are decoded through their request's pinned Predictor, one
// predict_n_best call per (model, n_best) group of the batch, so every sentence gets exactly
// what the Predictor gives it alone.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "s2s/search.h"
#include "serve/metrics.h"
#include "serve/pending_request.h"

namespace s2s::serve {

struct BatcherOptions {
  int64_t max_batch = 64;
  std::chrono::microseconds max_delay{5000};
  int64_t max_queue = 1024;  // sentences
  SearchOptions search;      // n_best comes from each request
};

class Batcher {
 public:
  using Observer = std::function<void(const BatchRecord&)>;
  Batcher(BatcherOptions options, Observer observer);
  ~Batcher();  // stop()
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues all of `sources` for `request`, or none of them: false when the queue cannot take
  // them all (the caller answers 503) or the batcher is stopping.
  bool submit(const std::shared_ptr<PendingRequest>& request,
              std::vector<std::vector<std::string>> sources);
  // Removes a request's sentences still waiting (it timed out: free their room).
  void withdraw(const PendingRequest* request);
  int64_t depth() const;  // sentences waiting

  // From now on batches start without waiting for max_delay (a drain is under way).
  void hurry();
  // Fails every waiting sentence's request with `status` (the drain ran out of time).
  void fail_waiting(int status, const std::string& message);
  // Decodes what is queued, refuses new work, joins the thread. Idempotent.
  void stop();

 private:
  struct Sentence {
    std::shared_ptr<PendingRequest> request;
    size_t index = 0;
    std::vector<std::string> tokens;
    Clock::time_point queued;
  };
  void run();
  std::vector<Sentence> next_batch();  // empty: stopped and nothing left
  void decode(std::vector<Sentence>& batch);

  BatcherOptions options_;
  Observer observer_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Sentence> queue_;
  bool hurry_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace s2s::serve
