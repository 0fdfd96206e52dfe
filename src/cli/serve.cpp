// `s2s serve`: trained models behind an HTTP API with dynamic batching (include/s2s/serve.h).
// Parses flags into ServeOptions, runs the server, and turns signals into its lifecycle:
// SIGTERM/SIGINT drain and exit 0, SIGHUP reloads the model files.
#include <fmt/core.h>

#include <chrono>
#include <thread>

#include "cli/commands.h"
#include "cli/search_flags.h"
#include "s2s/dashboard.h"  // is_loopback_host
#include "s2s/error.h"
#include "s2s/runtime.h"
#include "s2s/serve.h"

namespace s2s::cli {
namespace {

constexpr const char* kFooter = R"(API (JSON; every error is a 4xx/5xx with {"error": "..."}):
  POST /v1/models/NAME/translate  {"inputs": ["0 0 5 3", ...], "n_best": 1,
                                   "return_scores": false, "timeout_ms": 10000}
       -> {"model": NAME, "outputs": [...], "unknown_tokens": [...], "scores": [...]?,
           "hypotheses": [[{"output", "score", "log_prob", "ended"}, ...], ...]? (n_best > 1)}
  GET /v1/models   GET /health   GET /ready   GET /metrics (Prometheus text)

Concurrent requests are decoded together: a batch starts when --max-batch sentences wait or the
oldest has waited --max-delay-ms. Each sentence's result is what decoding it alone gives.
A full queue answers 503 with Retry-After. SIGTERM or Ctrl-C: stop accepting, finish the
requests in flight (at most --drain-ms), exit 0; a second one ends it at once. SIGHUP: reload
every model file; a file that does not load keeps the old model (the reason goes to stderr and
GET /v1/models).

Examples:
  s2s serve --model course=runs/course/best.pt
  curl -s localhost:8080/v1/models/course/translate -d '{"inputs": ["0 0 0 5 3 8 2 7 1 4"]}'
  s2s serve --model course=runs/course/best.pt --model g2p=runs/g2p/best.pt --beam 5
  s2s serve --model course=runs/course/best.pt --port 0 --threads 1 --max-batch 32
)";

struct ServeFlags {
  ServeOptions options;
  std::vector<std::string> models;
  std::string precision = "f32";
  SearchFlags search;
  int64_t threads = 0;
  int64_t drain_ms = 10000;
};

void run(ServeFlags& f) {
  ServeOptions& o = f.options;
  for (const auto& text : f.models) o.models.push_back(parse_model_spec(text));
  o.precision = parse_precision(f.precision);
  o.search = f.search.parse();
  o.check();
  if (f.drain_ms < 0) throw Error("--drain-ms must be >= 0");
  if (!is_loopback_host(o.host)) {
    fmt::print(stderr,
               "s2s: warning: listening on {}: anyone who can reach this address can use your "
               "models (no authentication)\n",
               o.host);
  }
  RuntimeOptions runtime;
  runtime.threads = f.threads;
  configure_runtime(runtime);
  StopSignals stop(/*enabled=*/true, /*second_ends_process=*/true);
  ReloadSignal reload;
  auto server = start_server(o);
  fmt::print("serving {} model(s) on {}  (Ctrl-C to stop, SIGHUP to reload)\n", o.models.size(),
             server->url());
  std::fflush(stdout);
  while (!stop.requested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!reload.take()) continue;
    for (const auto& r : server->reload()) {
      if (r.ok) {
        fmt::print(stderr, "s2s serve: reloaded {}\n", r.name);
      } else {
        fmt::print(stderr, "s2s serve: reload of {} failed, still serving the old model: {}\n",
                   r.name, r.error);
      }
    }
  }
  fmt::print(stderr, "s2s serve: stopping: finishing requests in flight\n");
  const bool clean = server->shutdown(std::chrono::milliseconds(f.drain_ms));
  fmt::print(stderr, "s2s serve: stopped{}\n",
             clean ? "" : " (drain timeout: waiting requests were answered 503)");
}

}  // namespace

void add_serve(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<ServeFlags>();
  ServeOptions& o = f->options;
  auto* cmd = app.add_subcommand("serve", "Serve models over HTTP with dynamic batching");
  cmd->footer(kFooter);
  cmd->add_option("--model", f->models, "NAME=PATH of a checkpoint; repeat for several models")
      ->required();
  cmd->add_option("--host", o.host,
                  "Address to listen on. Anything but loopback exposes the models to the network")
      ->capture_default_str();
  cmd->add_option("--port", o.port, "TCP port; 0 picks a free one")->capture_default_str();
  cmd->add_option("--max-batch", o.max_batch, "Sentences decoded together at most")
      ->capture_default_str();
  cmd->add_option("--max-delay-ms", o.max_delay_ms,
                  "How long the oldest waiting sentence waits for others to batch with")
      ->capture_default_str();
  cmd->add_option("--max-queue", o.max_queue,
                  "Sentences waiting per model; beyond it requests get 503 with Retry-After")
      ->capture_default_str();
  cmd->add_option("--max-inputs", o.max_inputs, "Sentences per request at most")
      ->capture_default_str();
  cmd->add_option("--max-input-tokens", o.max_input_tokens, "Tokens per sentence at most")
      ->capture_default_str();
  cmd->add_option("--max-body-bytes", o.max_body_bytes, "Request body size at most (413 beyond)")
      ->capture_default_str();
  cmd->add_option("--timeout-ms", o.timeout_ms,
                  "A request's deadline when it gives no timeout_ms (504 when passed)")
      ->capture_default_str();
  cmd->add_option("--max-timeout-ms", o.max_timeout_ms, "The largest timeout_ms accepted")
      ->capture_default_str();
  cmd->add_option("--http-threads", o.http_threads,
                  "Connections served at once (each open connection holds one thread)")
      ->capture_default_str();
  cmd->add_option("--read-timeout-ms", o.read_timeout_ms,
                  "A client that sends its request slower than this is cut off")
      ->capture_default_str();
  cmd->add_option("--write-timeout-ms", o.write_timeout_ms,
                  "A client that reads its answer slower than this is cut off")
      ->capture_default_str();
  cmd->add_option("--drain-ms", f->drain_ms,
                  "On SIGTERM/SIGINT, how long requests in flight may take to finish")
      ->capture_default_str();
  accepting_auto_threads(cmd->add_option("--threads", f->threads, kThreadsHelp));
  add_search_flags(cmd, f->search, /*with_n_best=*/false);
  cmd->add_option("--precision", f->precision, kInferencePrecisionHelp);
  cmd->callback([f, &ctx] {
    run(*f);
    ctx.exit_code = 0;
  });
}

}  // namespace s2s::cli
