// The dashboard's HTTP API on fixture runs, its refusals, and files that misbehave.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "s2s/dashboard.h"
#include "s2s/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kRuns = fs::path(S2S_FIXTURES_DIR) / "runs";
const fs::path kWeb = fs::path(S2S_SOURCE_DIR) / "web";

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(S2S_BINARY_DIR) / "test-tmp" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string epoch_line(int epoch, double valid_loss) {
  return json{{"epoch", epoch},        {"train_loss", 1.0},        {"train_token_acc", 0.5},
              {"train_seq_acc", 0.1},  {"valid_loss", valid_loss}, {"valid_token_acc", 0.4},
              {"valid_seq_acc", 0.05}, {"epoch_seconds", 2.0},     {"lr", 0.001}}
             .dump() +
         "\n";
}

class Server {
 public:
  explicit Server(std::vector<fs::path> roots) {
    s2s::DashboardOptions o;
    o.run_roots = std::move(roots);
    o.port = 0;
    o.web_dir = kWeb;
    dash = s2s::start_dashboard(o);
    client = std::make_unique<httplib::Client>("127.0.0.1", dash->port());
    client->set_read_timeout(5, 0);
  }
  json get_json(const std::string& path, int expect_status = 200) {
    auto res = client->Get(path.c_str());
    EXPECT_TRUE(res) << path;
    if (!res) return {};
    EXPECT_EQ(res->status, expect_status) << path << ": " << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json") << path;
    return json::parse(res->body);
  }
  int status(const std::string& path) {
    auto res = client->Get(path.c_str());
    return res ? res->status : -1;
  }
  std::unique_ptr<s2s::Dashboard> dash;
  std::unique_ptr<httplib::Client> client;
};

// A raw request, byte for byte, on a plain socket (clients may normalize or re-encode paths;
// attackers do not). Reads until the server closes.
std::string raw_request(int port, const std::string& request) {
  std::string response;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{1, 0};  // a server keeping the connection open must not hang the test
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return "";
  ::send(fd, request.data(), request.size(), 0);
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) response.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return response;
}

int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0) return -1;
  return std::stoi(response.substr(9, 3));
}

}  // namespace

TEST(DashboardApi, ListsTheFixtureRuns) {
  Server s({kRuns});
  const json list = s.get_json("/api/runs");
  EXPECT_EQ(list["poll_ms"], 1000);
  ASSERT_EQ(list["runs"].size(), 3u);
  const json& gru = list["runs"][0];
  EXPECT_EQ(gru["id"], "gru_h256");
  EXPECT_EQ(gru["status"], "stopped early");
  EXPECT_EQ(gru["stop_reason"], "early_stopping");
  EXPECT_EQ(gru["epochs"], 14);
  EXPECT_EQ(gru["best_epoch"], 12);
  EXPECT_EQ(gru["overfit_epoch"], 10);
  EXPECT_DOUBLE_EQ(gru["best_valid_token_acc"].get<double>(), 0.89672);
  EXPECT_DOUBLE_EQ(gru["best_valid_seq_acc"].get<double>(), 0.46621);
  EXPECT_EQ(gru["config"]["cell"], "gru");
  EXPECT_EQ(gru["config_summary"],
            "cell=gru impl=fused layers=1 hidden=256 batch=32 lr=0.001 dropout=0.1");
  EXPECT_FALSE(gru.contains("metrics"));
  EXPECT_EQ(list["runs"][1]["status"], "finished");
  EXPECT_EQ(list["runs"][1]["stop_reason"], "completed");
  EXPECT_TRUE(list["runs"][1]["overfit_epoch"].is_null());
  const json& rnn = list["runs"][2];
  EXPECT_EQ(rnn["status"], "running");
  EXPECT_EQ(rnn["epochs"], 6);  // the 7th line is cut mid-write: not shown
  EXPECT_EQ(rnn["skipped_lines"], 0);
}

TEST(DashboardApi, ServesOneRunsMetrics) {
  Server s({kRuns});
  const json run = s.get_json("/api/metrics?run=lstm_h256");
  EXPECT_EQ(run["id"], "lstm_h256");
  ASSERT_EQ(run["metrics"].size(), 20u);
  const json& first = run["metrics"][0];
  EXPECT_EQ(first["epoch"], 1);
  // Exactly the numbers of the file's first line.
  std::ifstream in(kRuns / "lstm_h256" / "metrics.jsonl");
  std::string line;
  std::getline(in, line);
  const json expected = json::parse(line);
  for (const char* key : {"train_loss", "train_token_acc", "train_seq_acc", "valid_loss",
                          "valid_token_acc", "valid_seq_acc", "epoch_seconds", "lr"})
    EXPECT_DOUBLE_EQ(first[key].get<double>(), expected[key].get<double>()) << key;
  EXPECT_EQ(run["metrics"][19]["epoch"], 20);
}

TEST(DashboardApi, ServesThePageAndChartLibrary) {
  Server s({kRuns});
  auto page = s.client->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("/vendor/uPlot.iife.min.js"), std::string::npos);
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  auto js = s.client->Get("/vendor/uPlot.iife.min.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200) << "run scripts/setup (npm ci in web/)";
  EXPECT_NE(js->body.find("uPlot"), std::string::npos);
  EXPECT_EQ(s.status("/app.js"), 200);
  EXPECT_EQ(s.status("/app.css"), 200);
}

TEST(DashboardApi, BadRequestsGet4xx) {
  Server s({kRuns});
  EXPECT_EQ(s.status("/api/metrics"), 400);
  EXPECT_EQ(s.get_json("/api/metrics?run=nope", 404)["error"], "no run with this id");
  EXPECT_EQ(s.status("/nothing"), 404);
  EXPECT_EQ(s.status("/web/index.html"), 404);
  EXPECT_EQ(s.status("/package.json"), 404);
  EXPECT_EQ(s.status("/node_modules/uplot/package.json"), 404);
  auto post = s.client->Post("/api/runs", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  auto del = s.client->Delete("/api/metrics?run=gru_h256");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 405);
  // Garbage instead of HTTP: the server answers 400 and keeps serving.
  EXPECT_EQ(status_of(raw_request(s.dash->port(), "\x01\x02 garbage\r\n\r\n")), 400);
  EXPECT_EQ(s.status("/api/runs"), 200);
}

TEST(DashboardApi, PathTraversalIsRefused) {
  Server s({kRuns / "gru_h256"});
  const int port = s.dash->port();
  // Control: the same raw request for a real asset works.
  EXPECT_EQ(status_of(raw_request(
                port, "GET /app.js HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")),
            200);
  for (const std::string& target : std::vector<std::string>{
           "/../../../../etc/passwd", "/vendor/../../CMakeLists.txt", "/%2e%2e/%2e%2e/etc/passwd",
           "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "/vendor/..%2f..%2fCMakeLists.txt",
           "/..%5c..%5cetc%5cpasswd", "/etc/passwd", "//etc/passwd", "/%2fetc%2fpasswd",
           "/vendor/%2e%2e/app.js", "/index.html%00.js", "/api/metrics?run=../../../../etc/passwd",
           "/api/metrics?run=%2e%2e%2flstm_h256", "/api/metrics?run=/etc/passwd",
           "/api/metrics?run=" + (kRuns / "lstm_h256").string(),
           "/api/metrics?run=gru_h256/../lstm_h256"}) {
    const std::string response = raw_request(
        port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    const int status = status_of(response);
    EXPECT_GE(status, 400) << target;
    EXPECT_LT(status, 500) << target;
    EXPECT_EQ(response.find("root:"), std::string::npos) << target;
    EXPECT_EQ(response.find("cmake_minimum_required"), std::string::npos) << target;
    EXPECT_EQ(response.find("lstm"), std::string::npos) << target;
  }
}

// Parent-directory and backslash paths are refused before routing (400 "bad path"), not merely
// left unmatched (404): no route, today's or a future prefix route, ever sees one.
TEST(DashboardApi, TraversalPathsAreRefusedBeforeRouting) {
  Server s({kRuns / "gru_h256"});
  const int port = s.dash->port();
  for (const char* target : {"/vendor/../app.js", "/vendor/%2e%2e/app.js", "/api/../api/runs",
                             "/app.js%5c", "/..", "/vendor/uPlot.min.css/.."}) {
    const std::string response =
        raw_request(port, std::string("GET ") + target +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(response), 400) << target;
    EXPECT_NE(response.find("{\"error\":\"bad path\"}"), std::string::npos) << target;
  }
}

TEST(DashboardApi, SymlinksOutsideTheRootsAreNotServed) {
  const fs::path root = fresh_dir("dash-symlinks");
  const fs::path outside = fresh_dir("dash-symlinks-outside");
  std::ofstream(outside / "metrics.jsonl") << epoch_line(1, 0.5);
  std::ofstream(outside / "secret.jsonl") << epoch_line(1, 0.123);
  fs::create_directory_symlink(outside, root / "escape");
  fs::create_directories(root / "run");
  std::ofstream(root / "run" / "config.json") << "{\"cell\": \"gru\"}";
  fs::create_symlink(outside / "secret.jsonl", root / "run" / "metrics.jsonl");
  Server s({root});
  const json list = s.get_json("/api/runs");
  ASSERT_EQ(list["runs"].size(), 1u);
  EXPECT_EQ(list["runs"][0]["id"], "run");
  EXPECT_EQ(list["runs"][0]["epochs"], 0);  // its metrics.jsonl points outside
  EXPECT_EQ(s.get_json("/api/metrics?run=run")["metrics"].size(), 0u);
  EXPECT_EQ(s.get_json("/api/metrics?run=escape", 404)["error"], "no run with this id");
}

TEST(DashboardApi, OnlyAnswersLocalHostNamesOnLoopback) {
  Server s({kRuns});
  const int port = s.dash->port();
  EXPECT_EQ(
      status_of(raw_request(
          port, "GET /api/runs HTTP/1.1\r\nHost: evil.example:80\r\nConnection: close\r\n\r\n")),
      403);
  EXPECT_EQ(status_of(raw_request(
                port, "GET /api/runs HTTP/1.1\r\nHost: localhost:1\r\nConnection: close\r\n\r\n")),
            200);
}

TEST(DashboardApi, FollowsAGrowingFileSkipsMalformedLinesAndSurvivesVanishing) {
  const fs::path root = fresh_dir("dash-growing");
  fs::create_directories(root / "live");
  std::ofstream(root / "live" / "config.json") << "{\"cell\": \"lstm\"}";
  const fs::path metrics = root / "live" / "metrics.jsonl";
  std::ofstream(metrics) << epoch_line(1, 2.0) << epoch_line(2, 1.5);
  Server s({root});
  EXPECT_EQ(s.get_json("/api/metrics?run=live")["metrics"].size(), 2u);
  {
    std::ofstream out(metrics, std::ios::app);
    out << "this is not json\n" << epoch_line(3, 1.2) << "{\"epoch\": 4, \"train_l";
  }
  json run = s.get_json("/api/metrics?run=live");
  ASSERT_EQ(run["metrics"].size(), 3u);
  EXPECT_EQ(run["metrics"][2]["epoch"], 3);
  EXPECT_DOUBLE_EQ(run["metrics"][2]["valid_loss"].get<double>(), 1.2);
  EXPECT_EQ(run["skipped_lines"], 1);
  {
    std::ofstream out(metrics, std::ios::app);
    out << "oss\": 1.0, \"valid_loss\": 1.1}\n";  // completes epoch 4
  }
  run = s.get_json("/api/metrics?run=live");
  ASSERT_EQ(run["metrics"].size(), 4u);
  EXPECT_DOUBLE_EQ(run["metrics"][3]["valid_loss"].get<double>(), 1.1);
  EXPECT_TRUE(run["metrics"][3]["valid_seq_acc"].is_null());  // absent field

  // A huge garbage line, then a valid one: skipped, not a crash, and followed past.
  {
    std::ofstream out(metrics, std::ios::app);
    out << std::string(3 * 1024 * 1024, '{') << "\n" << epoch_line(5, 1.0);
  }
  run = s.get_json("/api/metrics?run=live");
  EXPECT_EQ(run["metrics"].size(), 5u);
  EXPECT_EQ(run["skipped_lines"], 2);

  fs::remove(metrics);  // vanishes (a new run about to start): no epochs, no stale numbers
  EXPECT_EQ(s.get_json("/api/metrics?run=live")["metrics"].size(), 0u);
  std::ofstream(metrics) << epoch_line(1, 3.0);
  run = s.get_json("/api/metrics?run=live");
  ASSERT_EQ(run["metrics"].size(), 1u);
  EXPECT_DOUBLE_EQ(run["metrics"][0]["valid_loss"].get<double>(), 3.0);
}

TEST(DashboardApi, StartFailuresAreErrors) {
  s2s::DashboardOptions o;
  o.run_roots = {kRuns / "missing"};
  o.web_dir = kWeb;
  EXPECT_THROW(s2s::start_dashboard(o), s2s::Error);
  o.run_roots = {kRuns};
  o.port = 0;
  auto first = s2s::start_dashboard(o);
  o.port = first->port();
  try {
    s2s::start_dashboard(o);
    FAIL() << "second server on the same port";
  } catch (const s2s::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen on 127.0.0.1:" + std::to_string(o.port)),
              std::string::npos);
  }
  EXPECT_EQ(first->url(), "http://127.0.0.1:" + std::to_string(first->port()) + "/");
}

TEST(Loopback, RecognizesLocalAddresses) {
  EXPECT_TRUE(s2s::is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(s2s::is_loopback_host("localhost"));
  EXPECT_TRUE(s2s::is_loopback_host("::1"));
  EXPECT_FALSE(s2s::is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(s2s::is_loopback_host("192.168.1.5"));
}

TEST(WebDir, EnvironmentOverrideWinsAndIsChecked) {
  const char* old = std::getenv("S2S_WEB_DIR");
  const std::string saved = old ? old : "";
  ::setenv("S2S_WEB_DIR", kWeb.c_str(), 1);
  EXPECT_EQ(s2s::find_web_dir(), fs::canonical(kWeb));
  const fs::path empty = fresh_dir("web-empty");
  ::setenv("S2S_WEB_DIR", empty.c_str(), 1);
  try {
    s2s::find_web_dir();
    ADD_FAILURE() << "expected s2s::Error";
  } catch (const s2s::Error& e) {
    EXPECT_EQ(std::string(e.what()), "S2S_WEB_DIR=" + empty.string() + ": no index.html there");
  }
  ::unsetenv("S2S_WEB_DIR");
  EXPECT_EQ(s2s::find_web_dir(), fs::canonical(kWeb));  // the source tree, compiled in
  if (old) ::setenv("S2S_WEB_DIR", saved.c_str(), 1);
}
