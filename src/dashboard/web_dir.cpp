// Locating the page's files: environment override, source tree, install tree.
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "s2s/dashboard.h"
#include "s2s/error.h"

#ifndef S2S_WEB_SOURCE_DIR
#define S2S_WEB_SOURCE_DIR ""
#endif

namespace s2s {

namespace fs = std::filesystem;

std::filesystem::path find_web_dir() {
  std::error_code ec;
  auto has_page = [&](const fs::path& dir) { return fs::is_regular_file(dir / "index.html", ec); };
  if (const char* env = std::getenv("S2S_WEB_DIR"); env && *env) {
    if (!has_page(env)) throw Error(std::string("S2S_WEB_DIR=") + env + ": no index.html there");
    return fs::canonical(env);
  }
  std::vector<fs::path> tried;
  if (*S2S_WEB_SOURCE_DIR) tried.emplace_back(S2S_WEB_SOURCE_DIR);
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    tried.push_back(exe.parent_path().parent_path() / "share" / "s2s" / "web");
    tried.push_back(exe.parent_path().parent_path() / "web");
  }
  std::string places;
  for (const auto& dir : tried) {
    if (has_page(dir)) return fs::canonical(dir);
    places += (places.empty() ? "" : ", ") + dir.string();
  }
  throw Error("dashboard page not found (tried " + places + "); set S2S_WEB_DIR to s2s's web/");
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

}  // namespace s2s
