#include "serve/batcher.h"

#include <pthread.h>

#include <algorithm>
#include <exception>
#include <functional>
#include <map>

namespace s2s::serve {

Batcher::Batcher(BatcherOptions options, Observer observer)
    : options_(std::move(options)), observer_(std::move(observer)) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "s2s-batcher");
    run();
  });
}

Batcher::~Batcher() {
  stop();
}

bool Batcher::submit(const std::shared_ptr<PendingRequest>& request,
                     std::vector<std::vector<std::string>> sources) {
  const Clock::time_point now = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return false;
    if (static_cast<int64_t>(queue_.size() + sources.size()) > options_.max_queue) return false;
    for (size_t i = 0; i < sources.size(); ++i) {
      queue_.push_back({request, i, std::move(sources[i]), now});
    }
  }
  wake_.notify_one();
  return true;
}

void Batcher::withdraw(const PendingRequest* request) {
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.erase(std::remove_if(queue_.begin(), queue_.end(),
                              [&](const Sentence& s) { return s.request.get() == request; }),
               queue_.end());
}

int64_t Batcher::depth() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(queue_.size());
}

void Batcher::hurry() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    hurry_ = true;
  }
  wake_.notify_all();
}

void Batcher::fail_waiting(int status, const std::string& message) {
  std::deque<Sentence> waiting;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    waiting.swap(queue_);
  }
  for (auto& s : waiting) s.request->fail(status, message);
}

void Batcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    hurry_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<Batcher::Sentence> Batcher::next_batch() {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto max_batch = static_cast<size_t>(options_.max_batch);
  for (;;) {
    wake_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) return {};  // stopping, nothing left
    // Wait for company until the oldest sentence is due (a withdrawal may empty the queue).
    const Clock::time_point due = queue_.front().queued + options_.max_delay;
    wake_.wait_until(lock, due,
                     [&] { return hurry_ || queue_.size() >= max_batch || queue_.empty(); });
    if (queue_.empty()) continue;
    if (!hurry_ && queue_.size() < max_batch &&
        Clock::now() < queue_.front().queued + options_.max_delay) {
      continue;  // the oldest was withdrawn: the new oldest has its own due time
    }
    std::vector<Sentence> batch;
    const size_t n = std::min(max_batch, queue_.size());
    batch.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    return batch;
  }
}

void Batcher::run() {
  for (;;) {
    std::vector<Sentence> batch = next_batch();
    if (batch.empty()) return;
    decode(batch);
  }
}

void Batcher::decode(std::vector<Sentence>& batch) {
  const Clock::time_point start = Clock::now();
  BatchRecord record;
  record.sentences = static_cast<int64_t>(batch.size());
  for (const auto& s : batch) {
    record.queue_wait_seconds.push_back(std::chrono::duration<double>(start - s.queued).count());
  }
  // Groups of one model and one n_best, in order of first appearance. Sentences of requests
  // that timed out meanwhile are skipped.
  std::map<std::pair<const Predictor*, int64_t>, std::vector<size_t>> groups;
  std::vector<std::pair<const Predictor*, int64_t>> order;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].request->abandoned()) continue;
    const auto key = std::make_pair(batch[i].request->model().get(), batch[i].request->n_best());
    auto& members = groups[key];
    if (members.empty()) order.push_back(key);
    members.push_back(i);
  }
  // Answers are delivered after the batch is recorded, so a client holding its answer finds the
  // batch in /metrics (and a test reading the counters after its replies sees every batch).
  std::vector<std::function<void()>> deliveries;
  for (const auto& key : order) {
    const auto& members = groups[key];
    std::vector<std::vector<std::string>> sources;
    sources.reserve(members.size());
    for (size_t i : members) sources.push_back(std::move(batch[i].tokens));
    SearchOptions search = options_.search;
    search.n_best = key.second;
    Predictor& model = *batch[members.front()].request->model();
    try {
      auto results = model.predict_n_best(sources, search, static_cast<int64_t>(sources.size()));
      for (size_t k = 0; k < members.size(); ++k) {
        if (!results[k].empty()) {
          record.output_tokens += static_cast<int64_t>(results[k].front().tokens.size());
        }
        Sentence& s = batch[members[k]];
        deliveries.push_back([&s, result = std::move(results[k])]() mutable {
          s.request->complete(s.index, std::move(result));
        });
      }
    } catch (const std::exception& e) {
      // Requests are checked before they are queued; reaching this is a bug, not bad input.
      const std::string message = std::string("decoding failed: ") + e.what();
      for (size_t i : members) {
        deliveries.push_back([&s = batch[i], message] { s.request->fail(500, message); });
      }
    }
  }
  record.compute_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (observer_) observer_(record);
  for (auto& deliver : deliveries) deliver();
}

}  // namespace s2s::serve
