// The dashboard's HTTP server (cpp-httplib). Every URL it answers is in the route table below:
// a request never names a file on disk, it names a page asset or a run id from discovery, so
// paths like /../x, %2e%2e or /etc/passwd have nothing to reach.
#include <httplib.h>

#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <type_traits>

#include "s2s/dashboard.h"
#include "s2s/error.h"
#include "s2s/runs.h"

namespace s2s {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Asset {
  const char* relative_path;  // under the web directory
  const char* mime;
};

// The page's files; nothing else under web/ is served.
const std::map<std::string, Asset>& assets() {
  static const std::map<std::string, Asset> table = {
      {"/", {"index.html", "text/html; charset=utf-8"}},
      {"/index.html", {"index.html", "text/html; charset=utf-8"}},
      {"/app.js", {"app.js", "text/javascript; charset=utf-8"}},
      {"/app.css", {"app.css", "text/css; charset=utf-8"}},
      {"/vendor/uPlot.iife.min.js",
       {"node_modules/uplot/dist/uPlot.iife.min.js", "text/javascript; charset=utf-8"}},
      {"/vendor/uPlot.min.css",
       {"node_modules/uplot/dist/uPlot.min.css", "text/css; charset=utf-8"}},
  };
  return table;
}

std::optional<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

json optional_json(const std::optional<int>& v) {
  return v ? json(*v) : json(nullptr);
}

json epoch_json(const EpochRecord& m) {
  // NaN (a field the writer did not give) becomes null in the JSON.
  return {{"epoch", m.epoch},
          {"train_loss", m.train_loss},
          {"train_token_acc", m.train_token_acc},
          {"train_seq_acc", m.train_seq_acc},
          {"valid_loss", m.valid_loss},
          {"valid_token_acc", m.valid_token_acc},
          {"valid_seq_acc", m.valid_seq_acc},
          {"epoch_seconds", m.epoch_seconds},
          {"lr", m.lr}};
}

json step_json(const StepRecord& r) {
  return {{"step", r.step},
          {"epoch", r.epoch_fraction},
          {"train_loss", r.train_loss},
          {"tokens_per_second", r.tokens_per_second},
          {"lr", r.lr}};
}

void set_json(httplib::Response& res, const json& body) {
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
  res.set_header("Cache-Control", "no-store");
}

void set_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  set_json(res, {{"error", message}});
}

// "127.0.0.1:8050" -> "127.0.0.1"; "[::1]:8050" -> "[::1]".
std::string host_without_port(const std::string& host) {
  if (!host.empty() && host[0] == '[') {
    const auto end = host.find(']');
    return end == std::string::npos ? host : host.substr(0, end + 1);
  }
  const auto colon = host.find(':');
  return colon == std::string::npos ? host : host.substr(0, colon);
}

}  // namespace

struct Dashboard::Impl {
  DashboardOptions options;
  fs::path web_dir;
  httplib::Server server;
  std::thread thread;
  int port = 0;

  struct FollowedRun {
    RunInfo info;
    std::unique_ptr<MetricsFollower> follower;
    std::unique_ptr<StepFollower> steps;  // steps.jsonl, the loss every few steps
  };
  std::mutex mutex;  // guards runs and last_discovery
  std::map<std::string, FollowedRun> runs;
  std::chrono::steady_clock::time_point last_discovery{};

  // Re-reads the roots (new runs appear, summary.json gets written) at most once a second.
  void refresh_runs_locked(bool force) {
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - last_discovery < std::chrono::milliseconds(900)) return;
    last_discovery = now;
    std::vector<RunInfo> found;
    try {
      found = discover_runs(options.run_roots);
    } catch (const std::exception&) {
      return;  // a root vanished: keep what we had
    }
    std::map<std::string, FollowedRun> next;
    for (auto& info : found) {
      auto old = runs.find(info.id);
      FollowedRun state;
      if (old != runs.end() && old->second.info.dir == info.dir) {
        state.follower = std::move(old->second.follower);
        state.steps = std::move(old->second.steps);
      } else {
        state.follower = std::make_unique<MetricsFollower>(info.metrics_path());
        state.steps = std::make_unique<StepFollower>(info.steps_path());
      }
      state.info = std::move(info);
      next.emplace(state.info.id, std::move(state));
    }
    runs = std::move(next);
  }

  // Reads new records, unless the file now resolves outside the run's root.
  template <class Follower>
  static const auto& poll_locked(const RunInfo& info, Follower& follower) {
    static const std::decay_t<decltype(follower.records())> kNone;
    std::error_code ec;
    const fs::path& path = follower.path();
    if (fs::exists(fs::symlink_status(path, ec)) && !is_inside(info.root, path)) return kNone;
    follower.poll();
    return follower.records();
  }

  json run_json_locked(FollowedRun& run, bool with_epochs) {
    const auto& epochs = poll_locked(run.info, *run.follower);
    const auto& steps = poll_locked(run.info, *run.steps);
    const RunMarkers markers = run_markers(run.info, epochs);
    json config = json::object();
    for (const auto& [k, v] : run.info.config) config[k] = v;
    json j = {{"id", run.info.id},
              {"config_summary", run.info.config_summary},
              {"config", config},
              {"status", display_name(run.info.status())},
              {"stop_reason", run.info.summary ? run.info.summary->stop_reason : ""},
              {"epochs", epochs.size()},
              {"last_epoch", epochs.empty() ? json(nullptr) : json(epochs.back().epoch)},
              {"best_epoch", optional_json(markers.best_epoch)},
              {"overfit_epoch", optional_json(markers.overfit_epoch)},
              {"best_valid_token_acc", markers.best_valid_token_acc},
              {"best_valid_seq_acc", markers.best_valid_seq_acc},
              {"last_step", steps.empty() ? json(nullptr) : json(steps.back().step)},
              {"skipped_lines", run.follower->skipped_lines()}};
    if (with_epochs) {
      json list = json::array();
      for (const auto& m : epochs) list.push_back(epoch_json(m));
      j["metrics"] = std::move(list);
      json step_list = json::array();
      for (const auto& r : steps) step_list.push_back(step_json(r));
      j["steps"] = std::move(step_list);
    }
    return j;
  }

  void handle_runs(httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mutex);
    refresh_runs_locked(false);
    json list = json::array();
    for (auto& [id, run] : runs) list.push_back(run_json_locked(run, false));
    set_json(res, {{"runs", list}, {"poll_ms", options.poll_ms}});
  }

  void handle_metrics(const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("run")) return set_error(res, 400, "missing ?run=ID");
    const std::string id = req.get_param_value("run");
    std::lock_guard<std::mutex> lock(mutex);
    refresh_runs_locked(false);
    auto it = runs.find(id);
    if (it == runs.end()) {
      refresh_runs_locked(true);  // maybe a run that just started
      it = runs.find(id);
    }
    if (it == runs.end()) return set_error(res, 404, "no run with this id");
    set_json(res, run_json_locked(it->second, true));
  }

  void handle_asset(const httplib::Request& req, httplib::Response& res) {
    const auto& asset = assets().at(req.path);
    auto body = read_file(web_dir / asset.relative_path);
    if (!body) {
      return set_error(res, 503,
                       std::string(asset.relative_path) +
                           " missing: run scripts/setup (it runs npm ci in web/)");
    }
    res.set_content(std::move(*body), asset.mime);
  }

  // Refuses what no route should see, before routing: other methods, odd paths, and (on
  // loopback) Host headers of other sites, which is how DNS rebinding reaches local servers.
  httplib::Server::HandlerResponse screen(const httplib::Request& req, httplib::Response& res) {
    if (req.method != "GET" && req.method != "HEAD") {
      set_error(res, 405, "read-only: GET only");
      res.set_header("Allow", "GET, HEAD");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.path.find("..") != std::string::npos || req.path.find('\\') != std::string::npos ||
        req.path.find('\0') != std::string::npos || req.path.empty() || req.path[0] != '/') {
      set_error(res, 400, "bad path");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (is_loopback_host(options.host)) {
      const std::string host = host_without_port(req.get_header_value("Host"));
      if (!is_loopback_host(host)) {
        set_error(res, 403, "this dashboard only answers to localhost");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:");
    return httplib::Server::HandlerResponse::Unhandled;
  }

  void install_routes() {
    // httplib's default adds SO_REUSEPORT, which would let a second dashboard share the port
    // and answer half the requests. SO_REUSEADDR alone: restarts still bind at once.
    server.set_socket_options([](int sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    server.set_pre_routing_handler(
        [this](const httplib::Request& req, httplib::Response& res) { return screen(req, res); });
    for (const auto& [url, asset] : assets()) {
      server.Get(url, [this](const httplib::Request& req, httplib::Response& res) {
        handle_asset(req, res);
      });
    }
    server.Get("/api/runs",
               [this](const httplib::Request&, httplib::Response& res) { handle_runs(res); });
    server.Get("/api/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      handle_metrics(req, res);
    });
    server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty()) set_error(res, res.status, "request refused");
    });
    server.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                    std::exception_ptr) { set_error(res, 500, "internal error"); });
  }
};

Dashboard::Dashboard(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Dashboard::~Dashboard() {
  stop();
}

std::string Dashboard::url() const {
  const std::string& h = impl_->options.host;
  const bool v6 = h.find(':') != std::string::npos && h[0] != '[';
  const std::string shown = h == "0.0.0.0" ? "127.0.0.1" : (v6 ? "[" + h + "]" : h);
  return "http://" + shown + ":" + std::to_string(impl_->port) + "/";
}

int Dashboard::port() const {
  return impl_->port;
}

void Dashboard::wait() {
  if (impl_->thread.joinable()) impl_->thread.join();
}

void Dashboard::stop() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::unique_ptr<Dashboard> start_dashboard(DashboardOptions options) {
  if (options.run_roots.empty()) throw Error("dashboard: give at least one runs directory");
  if (options.poll_ms < 100) options.poll_ms = 100;
  discover_runs(options.run_roots);  // throws on a missing root, before binding
  auto impl = std::make_unique<Dashboard::Impl>();
  impl->web_dir = options.web_dir.empty() ? find_web_dir() : options.web_dir;
  impl->options = std::move(options);
  impl->install_routes();
  auto& o = impl->options;
  if (o.port == 0) {
    impl->port = impl->server.bind_to_any_port(o.host);
    if (impl->port < 0) throw Error("dashboard: cannot listen on " + o.host);
  } else {
    if (o.port < 0 || o.port > 65535)
      throw Error("--port " + std::to_string(o.port) + ": out of range");
    if (!impl->server.bind_to_port(o.host, o.port))
      throw Error("dashboard: cannot listen on " + o.host + ":" + std::to_string(o.port) +
                  " (in use? try --port 0 for any free port)");
    impl->port = o.port;
  }
  Dashboard::Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->server.listen_after_bind(); });
  // stop() is a no-op until the server runs, so wait for that: a caller may stop at once.
  for (int i = 0; i < 1000 && !raw->server.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return std::make_unique<Dashboard>(std::move(impl));
}

}  // namespace s2s
