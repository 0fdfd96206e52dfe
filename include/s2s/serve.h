// `s2s serve`: trained models behind an HTTP API (cpp-httplib), with dynamic batching.
//
// Endpoints (JSON unless noted; every error is a 4xx/5xx with {"error": "..."}):
//   POST /v1/models/NAME/translate  {"inputs": ["0 0 5 3", ...], "n_best": 1,
//                                    "return_scores": false, "timeout_ms": 10000}
//        -> {"model": NAME, "outputs": ["...", ...], "unknown_tokens": [0, ...],
//            "scores": [...] (return_scores), "hypotheses": [[{output, score, log_prob,
//            ended}, ...], ...] (n_best > 1)}
//   GET /v1/models   names, vocabulary sizes, configurations, reloads
//   GET /health      200 while the process answers; GET /ready 200 once models are loaded and
//                    until draining starts (then 503)
//   GET /metrics     Prometheus text: requests by endpoint and status, sentences, tokens,
//                    batch-size, queue-wait, compute and request-time histograms, queue depth
//
// Each model has a bounded queue of sentences and one batcher thread: a batch starts when it
// holds max_batch sentences or its oldest sentence has waited max_delay_ms. The sentences of
// one request may be split across batches; their results are put back in order, and each is
// what decoding it alone gives (a sentence's decoding does not depend on its batch, see
// s2s/beam_search.h). Decoding goes through s2s::Predictor.
//
//   s2s::ServeOptions options;
//   options.models = {s2s::parse_model_spec("course=runs/course/best.pt")};
//   auto server = s2s::start_server(options);     // loads, binds, serves in the background
//   ... server->reload(); ...                     // re-read the files (SIGHUP in the CLI)
//   server->shutdown(std::chrono::seconds(10));   // stop accepting, finish in-flight requests
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "s2s/cell.h"
#include "s2s/search.h"

namespace s2s {

struct ModelSpec {
  std::string name;  // letters, digits, '.', '_', '-': the NAME in /v1/models/NAME/translate
  std::string path;  // a checkpoint (DIR/best.pt)
};

// "NAME=PATH" -> ModelSpec; throws s2s::Error naming --model for anything else.
ModelSpec parse_model_spec(const std::string& text);

struct ServeOptions {
  std::vector<ModelSpec> models;
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see ModelServer::port())
  Precision precision = Precision::F32;
  // beam is the server's; a request chooses n_best up to it (length penalty and maximum
  // lengths are the server's too).
  SearchOptions search;
  // Batching.
  int64_t max_batch = 64;    // sentences decoded together at most
  int64_t max_delay_ms = 5;  // how long the oldest waiting sentence may wait for company
  int64_t max_queue = 1024;  // sentences waiting per model; beyond it, 503 with Retry-After
  // Limits on requests (each refusal is a 4xx with the limit and its flag in the message).
  int64_t max_inputs = 256;          // sentences per request (<= max_queue)
  int64_t max_input_tokens = 256;    // tokens per sentence
  int64_t max_body_bytes = 1 << 20;  // request body
  int64_t timeout_ms = 10000;        // a request's deadline when it gives no timeout_ms
  int64_t max_timeout_ms = 600000;   // the largest timeout_ms a request may ask for
  // Connections: each open connection holds one HTTP thread; slow clients are cut off.
  int64_t http_threads = 128;
  int64_t read_timeout_ms = 5000;
  int64_t write_timeout_ms = 5000;

  // Throws s2s::Error naming the flag of the first value out of range.
  void check() const;
};

// What reload() did for one model.
struct ReloadResult {
  std::string name;
  bool ok = false;
  std::string error;  // why the old model was kept
};

class ModelServer {
 public:
  ~ModelServer();  // shutdown(0 s) if still running
  ModelServer(const ModelServer&) = delete;
  ModelServer& operator=(const ModelServer&) = delete;

  int port() const;
  std::string url() const;  // e.g. "http://127.0.0.1:8080/"

  // Re-reads every model file. A file that loads replaces its model atomically: requests
  // already admitted finish on the model they started with, later ones get the new one. A file
  // that does not load leaves the old model serving; the result says why.
  std::vector<ReloadResult> reload();

  // Stops accepting connections, lets in-flight requests finish (queued sentences are decoded
  // at once, without waiting for max_delay_ms) and stops the batchers. Requests still running
  // after `drain` are answered 503. Returns true when everything finished within `drain`.
  bool shutdown(std::chrono::milliseconds drain);

  struct Impl;
  explicit ModelServer(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// Checks the options, loads every model (s2s::Error naming the file if one does not load),
// binds (s2s::Error if the port is taken) and serves in background threads; returns once
// requests are accepted.
std::unique_ptr<ModelServer> start_server(const ServeOptions& options);

}  // namespace s2s
