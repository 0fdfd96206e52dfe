// Real-browser test: headless Debian chromium, driven by playwright-core (web/node_modules),
// loads the dashboard for a copy of a fixture run, checks the charts, appends an epoch and
// checks the page shows it within 2 s, then writes a step log and checks the step chart
// appears and follows it, and the log-scale toggle. The script is browser_test.mjs; the screenshot
// is left at build/test-artifacts/dashboard.png.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "s2s/dashboard.h"

namespace fs = std::filesystem;

TEST(DashboardBrowser, ChartsShowTheRunAndFollowANewEpoch) {
  if (!fs::exists("/usr/bin/chromium")) GTEST_SKIP() << "/usr/bin/chromium is not installed";
  if (std::system("command -v node >/dev/null 2>&1") != 0) GTEST_SKIP() << "node is not installed";
  const fs::path web = fs::path(S2S_SOURCE_DIR) / "web";
  ASSERT_TRUE(fs::exists(web / "node_modules" / "playwright-core"))
      << "web/node_modules is missing: run scripts/setup (npm ci in web/)";

  const fs::path root = fs::path(S2S_BINARY_DIR) / "test-tmp" / "browser-runs";
  fs::remove_all(root);
  fs::create_directories(root);
  fs::copy(fs::path(S2S_FIXTURES_DIR) / "runs" / "gru_h256", root / "gru_h256");

  s2s::DashboardOptions o;
  o.run_roots = {root};
  o.port = 0;
  o.web_dir = web;
  auto dash = s2s::start_dashboard(o);

  const fs::path shot = fs::path(S2S_BINARY_DIR) / "test-artifacts" / "dashboard.png";
  fs::remove(shot);
  const std::string cmd = "node " +
                          (fs::path(S2S_SOURCE_DIR) / "tests/dashboard/browser_test.mjs").string() +
                          " --web-dir " + web.string() + " --url " + dash->url() + " --metrics " +
                          (root / "gru_h256" / "metrics.jsonl").string() +
                          " --run gru_h256 --epochs 14 --screenshot " + shot.string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  std::array<char, 512> buf{};
  while (fgets(buf.data(), buf.size(), p)) out += buf.data();
  const int rc = pclose(p);
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << out;
  EXPECT_EQ(out.find("FAIL"), std::string::npos) << out;
  EXPECT_NE(out.find("ok   epoch 15 shown after"), std::string::npos) << out;
  EXPECT_NE(out.find("ok   step chart follows two new steps"), std::string::npos) << out;
  ASSERT_TRUE(fs::exists(shot)) << out;
  EXPECT_GT(fs::file_size(shot), 20000u);
}
