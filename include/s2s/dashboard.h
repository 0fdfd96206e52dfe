// The live training dashboard: an HTTP server on loopback that lists runs and serves their
// metrics to the page in web/ (charts drawn in the browser with uPlot). Read-only: it serves a
// fixed list of page assets and JSON made from the runs' files, nothing else.
//
// `s2s train --dashboard` hookup (one run, in the background while training):
//   s2s::DashboardOptions options;
//   options.run_roots = {run_dir};     // port 8050 on 127.0.0.1 by default
//   auto dash = s2s::start_dashboard(options);
//   fmt::print("dashboard: {}\n", dash->url());
//   ... train; the page updates as metrics.jsonl grows ...
//   // dash's destructor stops the server.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace s2s {

struct DashboardOptions {
  std::vector<std::filesystem::path> run_roots;  // run directories or directories of runs
  std::string host = "127.0.0.1";
  int port = 8050;                // 0: any free port (see Dashboard::port())
  std::filesystem::path web_dir;  // empty: find_web_dir()
  int poll_ms = 1000;             // how often the page asks for new epochs
};

class Dashboard {
 public:
  ~Dashboard();  // stops the server and joins its thread
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  std::string url() const;  // e.g. "http://127.0.0.1:8050/"
  int port() const;
  void wait();  // blocks until stop() (from another thread) or a server failure
  void stop();

  struct Impl;
  explicit Dashboard(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// Binds and starts serving in a background thread; returns once requests are accepted.
// Throws s2s::Error when a root is missing, the web directory is not found, or the port
// cannot be bound.
std::unique_ptr<Dashboard> start_dashboard(DashboardOptions options);

// Where the page lives: $S2S_WEB_DIR, else the source tree's web/ (compiled in), else
// <exe>/../share/s2s/web or <exe>/../web. Throws s2s::Error naming the places tried.
std::filesystem::path find_web_dir();

// 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

}  // namespace s2s
