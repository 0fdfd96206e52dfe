// `s2s dashboard` as a process: errors, the non-loopback warning, and a live server.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "support/run_command.h"

namespace fs = std::filesystem;

namespace {

using s2s::test::run_cli;

const fs::path kRuns = fs::path(S2S_FIXTURES_DIR) / "runs";

}  // namespace

TEST(DashboardCli, MissingDirectoryIsBadInput) {
  auto r = run_cli("dashboard " + (kRuns / "nope").string() + " --port 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "s2s: error: " + (kRuns / "nope").string() + ": no such runs directory\n");
  r = run_cli("dashboard --port 70000");
  EXPECT_EQ(r.out.rfind("s2s: error: --port", 0), 0u);
  EXPECT_EQ(r.exit_code, 2);
}

TEST(DashboardCli, WarnsOffLoopbackAndServesTheRuns) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    execl(S2S_CLI_PATH, "s2s", "dashboard", kRuns.c_str(), "--host", "0.0.0.0", "--port", "0",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  const std::regex url_line("dashboard: http://127\\.0\\.0\\.1:(\\d+)/  \\(Ctrl-C to stop\\)\n");
  std::smatch m;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!std::regex_search(out, m, url_line) && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    char buf[512];
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ASSERT_TRUE(std::regex_search(out, m, url_line)) << out;
  EXPECT_EQ(out.rfind("s2s: warning: listening on 0.0.0.0: anyone who can reach this address can "
                      "read your runs' metrics and configs\n",
                      0),
            0u)
      << out;
  httplib::Client client("127.0.0.1", std::stoi(m[1]));
  auto res = client.Get("/api/runs");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(nlohmann::json::parse(res->body)["runs"].size(), 3u);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  close(fds[0]);
}
