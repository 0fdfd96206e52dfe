// s2s launch: this machine's ranks as child processes (see s2s/launch.h).
#include "s2s/launch.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <ostream>
#include <thread>

#include "s2s/error.h"
#include "s2s/runtime.h"

extern char** environ;

namespace s2s {
namespace {

using Clock = std::chrono::steady_clock;

struct Rank {
  int rank = 0;
  pid_t pid = 0;
  int fds[2] = {-1, -1};   // read ends of its stdout and stderr
  std::string partial[2];  // an unfinished line from each
  bool running = true;
  int exit_code = 0;
  int signal = 0;  // the signal that ended it, if one did
};

void validate(const LaunchOptions& o) {
  if (o.nproc_per_node < 1) throw Error("--nproc-per-node must be at least 1");
  if (o.nnodes < 1) throw Error("--nnodes must be at least 1");
  if (o.node_rank < 0 || o.node_rank >= o.nnodes) {
    throw Error(fmt::format("--node-rank {} is outside [0, {}) (--nnodes)", o.node_rank, o.nnodes));
  }
  if (o.master_port < 1 || o.master_port > 65535) throw Error("--master-port must be in 1..65535");
  if (o.master_addr.empty()) throw Error("--master-addr must not be empty");
  if (o.command.empty()) throw Error("nothing to launch: give the command after --");
}

std::string this_executable() {
  std::string path(4096, '\0');
  const ssize_t n = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (n <= 0) throw Error("cannot find this program (/proc/self/exe)", 1);
  path.resize(static_cast<size_t>(n));
  return path;
}

// The environment of a rank: ours, with torchrun's variables set for it.
std::vector<std::string> rank_environment(const LaunchOptions& o, int local_rank, int threads) {
  const std::map<std::string, std::string> set{
      {"RANK", std::to_string(o.node_rank * o.nproc_per_node + local_rank)},
      {"WORLD_SIZE", std::to_string(o.nnodes * o.nproc_per_node)},
      {"LOCAL_RANK", std::to_string(local_rank)},
      {"LOCAL_WORLD_SIZE", std::to_string(o.nproc_per_node)},
      {"GROUP_RANK", std::to_string(o.node_rank)},
      {"MASTER_ADDR", o.master_addr},
      {"MASTER_PORT", std::to_string(o.master_port)},
      {"OMP_NUM_THREADS", std::to_string(threads)},
  };
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    // An agent store of an outer torchrun does not belong to the job we start.
    if (set.count(name) == 0 && name != "TORCHELASTIC_USE_AGENT_STORE") env.push_back(entry);
  }
  for (const auto& [name, value] : set) env.push_back(name + "=" + value);
  return env;
}

Rank start_rank(const LaunchOptions& o, int local_rank, int threads) {
  Rank r;
  r.rank = o.node_rank * o.nproc_per_node + local_rank;
  std::vector<std::string> args = o.command;
  if (args[0] == "s2s") args[0] = this_executable();
  std::vector<std::string> env = rank_environment(o, local_rank, threads);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    throw Error(fmt::format("cannot create pipes: {}", std::strerror(errno)), 1);
  }
  const pid_t parent = ::getpid();
  r.pid = ::fork();
  if (r.pid < 0)
    throw Error(fmt::format("cannot start rank {}: {}", r.rank, std::strerror(errno)), 1);
  if (r.pid == 0) {
    // Its own process group: a Ctrl-C in the terminal reaches the launcher only, which
    // forwards it once (a second signal would end a rank at once, without its checkpoint).
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // isolate_signals() blocked them here
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::execvpe(argv[0], argv.data(), envp.data());
    const std::string msg =
        fmt::format("s2s: error: cannot execute {}: {}\n", args[0], std::strerror(errno));
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, msg.data(), msg.size());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  r.fds[0] = out[0];
  r.fds[1] = err[0];
  return r;
}

// Writes every complete line read from `fd` with the rank's prefix; at EOF, the rest too.
void relay(Rank& r, int which, std::ostream& to) {
  char buffer[4096];
  const ssize_t n = ::read(r.fds[which], buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  std::string& text = r.partial[which];
  if (n > 0) text.append(buffer, static_cast<size_t>(n));
  const std::string prefix = fmt::format("[rank {}] ", r.rank);
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    to << prefix << std::string_view(text).substr(start, nl + 1 - start);
  }
  text.erase(0, start);
  if (n <= 0) {  // EOF
    if (!text.empty()) to << prefix << text << "\n";
    text.clear();
    ::close(r.fds[which]);
    r.fds[which] = -1;
  }
  to.flush();
}

void signal_all(std::vector<Rank>& ranks, int sig) {
  for (auto& r : ranks)
    if (r.running) ::kill(r.pid, sig);
}

std::string describe_end(const Rank& r) {
  return r.signal ? fmt::format("was killed by signal {} ({})", r.signal, strsignal(r.signal))
                  : fmt::format("exited with status {}", r.exit_code);
}

}  // namespace

int launch(const LaunchOptions& options, std::ostream& out, std::ostream& err) {
  validate(options);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = std::max(1, cores / options.nproc_per_node);
  StopSignals signals(true, /*second_ends_process=*/false);
  std::vector<Rank> ranks;
  for (int local = 0; local < options.nproc_per_node; ++local) {
    ranks.push_back(start_rank(options, local, threads));
  }
  bool forwarded = false;
  const Rank* failed = nullptr;
  Clock::time_point kill_at = Clock::time_point::max();

  for (;;) {
    std::vector<pollfd> fds;
    std::vector<std::pair<Rank*, int>> owners;
    for (auto& r : ranks) {
      for (int which = 0; which < 2; ++which) {
        if (r.fds[which] < 0) continue;
        fds.push_back({r.fds[which], POLLIN, 0});
        owners.emplace_back(&r, which);
      }
    }
    const bool any_running =
        std::any_of(ranks.begin(), ranks.end(), [](const Rank& r) { return r.running; });
    if (fds.empty() && !any_running) break;
    if (!fds.empty()) {
      ::poll(fds.data(), fds.size(), 100);
      for (size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].revents != 0) {
          relay(*owners[i].first, owners[i].second, owners[i].second == 0 ? out : err);
        }
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (signals.requested() && !forwarded) {
      forwarded = true;
      signal_all(ranks, SIGTERM);
    }
    for (auto& r : ranks) {
      if (!r.running) continue;
      int status = 0;
      if (::waitpid(r.pid, &status, WNOHANG) != r.pid) continue;
      r.running = false;
      if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) {
        r.signal = WTERMSIG(status);
        r.exit_code = 128 + r.signal;
      }
      if (r.exit_code != 0 && !failed && !forwarded) {
        failed = &r;
        signal_all(ranks, SIGTERM);
        kill_at = Clock::now() +
                  std::chrono::milliseconds(static_cast<int64_t>(options.grace_seconds * 1000));
      }
    }
    if (Clock::now() >= kill_at) {
      signal_all(ranks, SIGKILL);
      kill_at = Clock::time_point::max();
    }
  }

  if (failed) {
    std::vector<int> others;
    for (const auto& r : ranks)
      if (&r != failed) others.push_back(r.rank);
    err << fmt::format("s2s: error: rank {} {}; the job failed{}\n", failed->rank,
                       describe_end(*failed),
                       others.empty() ? "" : " and the other ranks were stopped");
    return failed->exit_code;
  }
  int code = 0;
  for (const auto& r : ranks) code = std::max(code, r.exit_code);
  return code;
}

}  // namespace s2s
