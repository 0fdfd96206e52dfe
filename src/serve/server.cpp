// The model server's HTTP side (cpp-httplib): routes, refusals, metrics and the lifecycle.
// Decoding happens in the batchers (batcher.cpp); an HTTP thread only parses, checks, queues
// and waits.
#include <httplib.h>

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include <sys/socket.h>

#include "s2s/error.h"
#include "s2s/serve.h"
#include "serve/metrics.h"
#include "serve/model_slot.h"
#include "serve/translate_api.h"

namespace s2s {

using nlohmann::json;
using serve::Clock;

namespace {

constexpr const char* kJson = "application/json";
constexpr const char* kTranslatePattern = R"(/v1/models/([^/]+)/translate)";
constexpr const char* kTranslatePrefix = "/v1/models/";
// Answers on one connection before the server closes it (see install_routes).
constexpr size_t kKeepAliveRequests = 100;

// The route a path belongs to, for the requests counter (never the raw path: unbounded labels).
std::string endpoint_of(const std::string& path) {
  if (path == "/health" || path == "/ready" || path == "/metrics") return path.substr(1);
  if (path == "/v1/models") return "models";
  if (path.rfind(kTranslatePrefix, 0) == 0 && path.size() > 10 &&
      path.compare(path.size() - 10, 10, "/translate") == 0) {
    return "translate";
  }
  return "other";
}

void set_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(serve::error_body(message), kJson);
}

// The message for refusals httplib makes itself, before any handler runs.
std::string refusal_message(int status, const ServeOptions& o) {
  switch (status) {
    case 400:
      return fmt::format(
          "bad request: malformed HTTP, or the body did not arrive within {} ms "
          "(--read-timeout-ms)",
          o.read_timeout_ms);
    case 404:
      return "no such endpoint (POST /v1/models/NAME/translate, GET /v1/models, /health, "
             "/ready, /metrics)";
    case 413:
      return fmt::format("body over {} bytes (--max-body-bytes)", o.max_body_bytes);
    default:
      return fmt::format("request refused (HTTP {})", status);
  }
}

}  // namespace

struct ModelServer::Impl {
  ServeOptions options;
  std::vector<std::unique_ptr<serve::ModelSlot>> slots;
  std::map<std::string, serve::ModelSlot*> by_name;
  std::unique_ptr<serve::ServeMetrics> metrics;
  httplib::Server http;
  std::thread listener;
  int port = 0;
  // The listening socket, seen by the socket-options hook before httplib binds it.
  int listen_socket = -1;
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};

  std::mutex lifecycle;  // serialises reload() and shutdown()
  bool stopped = false;
  bool drained_cleanly = true;
  std::mutex listen_mutex;
  std::condition_variable listen_ended;
  bool listen_done = false;

  serve::RequestLimits limits() const {
    serve::RequestLimits l;
    l.max_inputs = options.max_inputs;
    l.max_input_tokens = options.max_input_tokens;
    l.max_n_best = options.search.beam;
    l.default_timeout_ms = options.timeout_ms;
    l.max_timeout_ms = options.max_timeout_ms;
    return l;
  }

  void handle_translate(const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    const auto found = by_name.find(name);
    if (found == by_name.end()) {
      std::string known;
      for (const auto& s : slots) known += (known.empty() ? "" : ", ") + s->name();
      return set_error(res, 404, fmt::format("no model named \"{}\" (serving: {})", name, known));
    }
    serve::ModelSlot& slot = *found->second;
    if (draining) {
      res.set_header("Retry-After", "1");
      return set_error(res, 503, "shutting down");
    }
    const Clock::time_point start = Clock::now();
    serve::TranslateRequest request;
    try {
      request = serve::parse_translate_request(req.body, limits());
    } catch (const serve::RequestError& e) {
      return set_error(res, e.status(), e.what());
    }
    std::shared_ptr<Predictor> model = slot.current();
    // Unknown tokens are decoded as <unk> and counted; a sentence of nothing but unknown
    // tokens is refused, as `s2s infer` refuses it: it is a wrong input, not a translation.
    std::vector<int64_t> unknown(request.sources.size(), 0);
    int64_t input_tokens = 0, unknown_total = 0;
    for (size_t i = 0; i < request.sources.size(); ++i) {
      for (const auto& token : request.sources[i]) unknown[i] += !model->vocab().contains(token);
      const auto n = static_cast<int64_t>(request.sources[i].size());
      if (unknown[i] == n) {
        return set_error(res, 400,
                         fmt::format("inputs[{}]: none of its tokens are in the vocabulary of "
                                     "model \"{}\"",
                                     i, name));
      }
      input_tokens += n;
      unknown_total += unknown[i];
    }
    auto pending =
        std::make_shared<serve::PendingRequest>(model, request.n_best, request.sources.size());
    const size_t sentences = request.sources.size();
    if (!slot.batcher->submit(pending, request.sources)) {
      res.set_header("Retry-After", "1");
      return set_error(res, 503,
                       fmt::format("model \"{}\" is busy: its queue cannot take {} more sentences "
                                   "(--max-queue {}); retry later",
                                   name, sentences, options.max_queue));
    }
    metrics->count_admitted(name, static_cast<int64_t>(sentences), input_tokens, unknown_total);
    const auto outcome = pending->wait_until(start + std::chrono::milliseconds(request.timeout_ms));
    switch (outcome) {
      case serve::PendingRequest::Outcome::Done:
        res.set_content(serve::translate_response(name, request, pending->results(), unknown),
                        kJson);
        break;
      case serve::PendingRequest::Outcome::Failed:
        if (pending->status() == 503) res.set_header("Retry-After", "1");
        set_error(res, pending->status(), pending->message());
        break;
      case serve::PendingRequest::Outcome::TimedOut:
        slot.batcher->withdraw(pending.get());
        set_error(res, 504,
                  fmt::format("not decoded within {} ms (timeout_ms; default --timeout-ms)",
                              request.timeout_ms));
        break;
    }
    metrics->observe_request_seconds(name,
                                     std::chrono::duration<double>(Clock::now() - start).count());
  }

  void handle_models(httplib::Response& res) {
    std::string list;
    for (const auto& s : slots) list += (list.empty() ? "" : ",") + s->info_json();
    const json settings = {{"beam", options.search.beam},
                           {"length_penalty", options.search.length_penalty.to_string()},
                           {"precision", to_string(options.precision)},
                           {"max_batch", options.max_batch},
                           {"max_delay_ms", options.max_delay_ms},
                           {"max_queue", options.max_queue},
                           {"max_inputs", options.max_inputs},
                           {"max_input_tokens", options.max_input_tokens}};
    res.set_content("{\"models\":[" + list + "],\"server\":" + settings.dump() + "}", kJson);
  }

  void handle_metrics(httplib::Response& res) {
    const auto depth = [this](const std::string& name) {
      return by_name.at(name)->batcher->depth();
    };
    res.set_content(metrics->render(depth, ready), "text/plain; version=0.0.4; charset=utf-8");
  }

  void install_routes() {
    // As the dashboard: SO_REUSEADDR without httplib's SO_REUSEPORT, so a second server on the
    // same port fails to bind instead of taking half the requests.
    http.set_socket_options([this](int sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
      listen_socket = sock;
    });
    http.set_tcp_nodelay(true);  // a response's header and body are separate writes
    const auto threads = static_cast<size_t>(options.http_threads);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    // A connection holds its HTTP thread for as long as it is kept alive, so with more busy
    // keep-alive clients than --http-threads the rest would wait, accepted but unserved, until
    // one of them went quiet. Closing a connection after kKeepAliveRequests answers ("Connection:
    // close"; clients reconnect) hands its thread to the longest-waiting connection in turn.
    http.set_keep_alive_max_count(kKeepAliveRequests);
    http.set_keep_alive_timeout(2);  // idle connections hold a thread, and a drain waits for them
    http.set_read_timeout(options.read_timeout_ms / 1000, (options.read_timeout_ms % 1000) * 1000);
    http.set_write_timeout(options.write_timeout_ms / 1000,
                           (options.write_timeout_ms % 1000) * 1000);
    http.set_payload_max_length(static_cast<size_t>(options.max_body_bytes));

    http.Post(kTranslatePattern, [this](const httplib::Request& req, httplib::Response& res) {
      handle_translate(req, res);
    });
    http.Get(kTranslatePattern, [](const httplib::Request&, httplib::Response& res) {
      res.set_header("Allow", "POST");
      set_error(res, 405, "translate takes POST with a JSON body");
    });
    http.Get("/v1/models",
             [this](const httplib::Request&, httplib::Response& res) { handle_models(res); });
    http.Get("/health", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"status":"ok"})", kJson);
    });
    http.Get("/ready", [this](const httplib::Request&, httplib::Response& res) {
      if (ready) return res.set_content(R"({"ready":true})", kJson);
      set_error(res, 503, draining ? "shutting down" : "loading");
    });
    http.Get("/metrics",
             [this](const httplib::Request&, httplib::Response& res) { handle_metrics(res); });
    http.set_error_handler([this](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty()) set_error(res, res.status, refusal_message(res.status, options));
    });
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                  std::exception_ptr) { set_error(res, 500, "internal error"); });
    // Counted before the answer is written (httplib's logger runs after it): a client that
    // scrapes /metrics as soon as its answer arrives sees its own request counted.
    http.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      metrics->count_request(endpoint_of(req.path), res.status);
    });
  }

  // Debian's libcpp-httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, compiled
  // into the library). When more clients than that connect at once (a load balancer or a
  // client pool opening its connections), the kernel drops the handshakes beyond it and each
  // of those requests waits for a TCP retransmission, 1-3 s: 64 connections at once gave a p99
  // of 2.8 s and 224 ListenDrops (docs/PERFORMANCE.md). listen() again on a listening socket
  // only changes its backlog; SOMAXCONN is the kernel's cap (net.core.somaxconn).
  void widen_backlog() {
    if (listen_socket < 0 || ::listen(listen_socket, SOMAXCONN) != 0) {
      throw Error(fmt::format("serve: cannot set the listen backlog on {}:{}", options.host, port));
    }
  }

  void bind() {
    if (options.port == 0) {
      port = http.bind_to_any_port(options.host);
      if (port < 0) throw Error("serve: cannot listen on " + options.host);
    } else if (http.bind_to_port(options.host, options.port)) {
      port = options.port;
    } else {
      throw Error(fmt::format("serve: cannot listen on {}:{} (in use? --port 0 picks a free one)",
                              options.host, options.port));
    }
    widen_backlog();
    listener = std::thread([this] {
      http.listen_after_bind();
      std::lock_guard<std::mutex> lock(listen_mutex);
      listen_done = true;
      listen_ended.notify_all();
    });
    // stop() is a no-op until the server runs, so wait for that: a caller may stop at once.
    for (int i = 0; i < 1000 && !http.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  bool shutdown(std::chrono::milliseconds drain) {
    std::lock_guard<std::mutex> lock(lifecycle);
    if (stopped) return drained_cleanly;
    stopped = true;
    ready = false;
    draining = true;
    for (auto& s : slots) s->batcher->hurry();
    const Clock::time_point deadline = Clock::now() + drain;
    http.stop();  // closes the listening socket; connections finish their current request
    std::unique_lock<std::mutex> wait(listen_mutex);
    drained_cleanly = listen_ended.wait_until(wait, deadline, [&] { return listen_done; });
    if (!drained_cleanly) {
      for (auto& s : slots) s->batcher->fail_waiting(503, "shutting down");
      listen_ended.wait(wait, [&] { return listen_done; });
    }
    wait.unlock();
    listener.join();
    for (auto& s : slots) s->batcher->stop();
    return drained_cleanly;
  }
};

ModelServer::ModelServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ModelServer::~ModelServer() {
  shutdown(std::chrono::milliseconds(0));
}

int ModelServer::port() const {
  return impl_->port;
}

std::string ModelServer::url() const {
  const std::string& h = impl_->options.host;
  const bool v6 = h.find(':') != std::string::npos && h[0] != '[';
  const std::string shown = h == "0.0.0.0" ? "127.0.0.1" : (v6 ? "[" + h + "]" : h);
  return "http://" + shown + ":" + std::to_string(impl_->port) + "/";
}

std::vector<ReloadResult> ModelServer::reload() {
  std::lock_guard<std::mutex> lock(impl_->lifecycle);
  std::vector<ReloadResult> results;
  for (auto& slot : impl_->slots) {
    results.push_back(slot->reload());
    impl_->metrics->count_reload(slot->name(), results.back().ok);
  }
  return results;
}

bool ModelServer::shutdown(std::chrono::milliseconds drain) {
  return impl_->shutdown(drain);
}

std::unique_ptr<ModelServer> start_server(const ServeOptions& options) {
  options.check();
  auto impl = std::make_unique<ModelServer::Impl>();
  impl->options = options;
  std::vector<std::string> names;
  for (const auto& spec : options.models) {
    auto slot = std::make_unique<serve::ModelSlot>(spec, options.precision);
    names.push_back(spec.name);
    impl->by_name[spec.name] = slot.get();
    impl->slots.push_back(std::move(slot));
  }
  impl->metrics = std::make_unique<serve::ServeMetrics>(names);
  serve::BatcherOptions batching;
  batching.max_batch = options.max_batch;
  batching.max_delay = std::chrono::milliseconds(options.max_delay_ms);
  batching.max_queue = options.max_queue;
  batching.search = options.search;
  for (auto& slot : impl->slots) {
    serve::ServeMetrics* metrics = impl->metrics.get();
    const std::string name = slot->name();
    slot->batcher = std::make_unique<serve::Batcher>(
        batching, [metrics, name](const serve::BatchRecord& r) { metrics->record_batch(name, r); });
  }
  impl->install_routes();
  impl->bind();
  impl->ready = true;
  return std::make_unique<ModelServer>(std::move(impl));
}

}  // namespace s2s
