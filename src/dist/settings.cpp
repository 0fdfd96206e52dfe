// DistSettings from torchrun's environment variables and the flags that override them.
#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <thread>

#include "s2s/distributed.h"
#include "s2s/error.h"

namespace s2s {
namespace {

// A whole decimal integer in [low, high], or an error naming `what`.
int parse_int(const std::string& text, const std::string& what, int low, int high) {
  int value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value < low || value > high) {
    throw Error(fmt::format("{}: '{}' is not an integer in [{}, {}]", what, text, low, high));
  }
  return value;
}

std::optional<int> env_int(const std::function<const char*(const char*)>& getenv, const char* name,
                           int low, int high) {
  const char* value = getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return parse_int(value, name, low, high);
}

std::string env_string(const std::function<const char*(const char*)>& getenv, const char* name) {
  const char* value = getenv(name);
  return value ? value : "";
}

// tcp://HOST:PORT (HOST may be [v6]) or file:///absolute/path.
void apply_init(const std::string& init, DistSettings& s) {
  constexpr std::string_view tcp = "tcp://", file = "file://";
  if (init.rfind(tcp, 0) == 0) {
    const std::string rest = init.substr(tcp.size());
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      throw Error("--init " + init + ": expected tcp://HOST:PORT");
    }
    std::string host = rest.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    s.rendezvous = Rendezvous::Tcp;
    s.host = host;
    s.port = parse_int(rest.substr(colon + 1), "--init " + init + ": port", 1, 65535);
  } else if (init.rfind(file, 0) == 0 && init.size() > file.size() + 1 &&
             init[file.size()] == '/') {
    s.rendezvous = Rendezvous::File;
    s.path = init.substr(file.size());
  } else {
    throw Error("--init " + init + ": expected tcp://HOST:PORT or file:///absolute/path");
  }
}

}  // namespace

DistSettings resolve_dist_settings(const DistFlags& flags,
                                   const std::function<const char*(const char*)>& getenv) {
  DistSettings s;
  constexpr int kMaxRanks = 1 << 16;
  s.world_size = env_int(getenv, "WORLD_SIZE", 1, kMaxRanks).value_or(1);
  s.rank = env_int(getenv, "RANK", 0, kMaxRanks).value_or(0);
  s.local_rank = env_int(getenv, "LOCAL_RANK", 0, kMaxRanks).value_or(s.rank);
  if (const std::string addr = env_string(getenv, "MASTER_ADDR"); !addr.empty()) s.host = addr;
  s.port = env_int(getenv, "MASTER_PORT", 1, 65535).value_or(29500);
  const std::string agent = env_string(getenv, "TORCHELASTIC_USE_AGENT_STORE");
  s.agent_store = agent == "True" || agent == "true" || agent == "1";
  s.restart_count = env_int(getenv, "TORCHELASTIC_RESTART_COUNT", 0, 1 << 30).value_or(0);
  s.socket_interface = env_string(getenv, "GLOO_SOCKET_IFNAME");

  if (flags.world_size) {
    if (*flags.world_size < 1) throw Error("--world-size must be at least 1");
    s.world_size = *flags.world_size;
  }
  if (flags.rank) {
    if (*flags.rank < 0) throw Error("--rank must be at least 0");
    s.rank = *flags.rank;
    if (!getenv("LOCAL_RANK")) s.local_rank = s.rank;
  }
  if (!flags.init.empty()) {
    apply_init(flags.init, s);
    s.agent_store = false;  // an explicit rendezvous is ours, whatever the launcher hosts
  }
  if (!(flags.timeout_seconds > 0) || !std::isfinite(flags.timeout_seconds)) {
    throw Error("--dist-timeout must be a positive number of seconds");
  }
  s.timeout = std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_seconds * 1000));
  s.local_world_size = env_int(getenv, "LOCAL_WORLD_SIZE", 1, kMaxRanks).value_or(s.world_size);
  if (s.rank >= s.world_size) {
    throw Error(
        fmt::format("rank {} is outside a world of {} (--rank/RANK must be below "
                    "--world-size/WORLD_SIZE)",
                    s.rank, s.world_size));
  }
  return s;
}

int64_t threads_per_rank(const DistSettings& settings) {
  const auto cores = static_cast<int64_t>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max<int64_t>(1, cores / std::max(1, settings.local_world_size));
}

}  // namespace s2s
