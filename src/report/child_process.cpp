#include "report/child_process.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "s2s/error.h"

namespace s2s::report {

pid_t start_child(const std::filesystem::path& program, const std::vector<std::string>& args,
                  const std::filesystem::path& log) {
  std::filesystem::create_directories(log.parent_path());
  // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
  std::vector<std::string> storage{program.string()};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error(fmt::format("{}: cannot open log: {}", log.string(), std::strerror(errno)), 1);
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fd);
    throw Error(fmt::format("cannot start {}: {}", program.string(), std::strerror(errno)), 1);
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    // fork() kept this thread's mask, in which isolate_signals() blocked SIGINT/SIGTERM/SIGHUP.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    ::execv(argv[0], argv.data());
    const char msg[] = "s2s experiment: cannot execute the child program\n";
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, msg, sizeof(msg) - 1);
    ::_exit(127);
  }
  ::close(fd);
  return pid;
}

std::optional<ChildExit> poll_children() {
  int status = 0;
  const pid_t pid = ::waitpid(-1, &status, WNOHANG);
  if (pid <= 0) return std::nullopt;
  ChildExit e{pid, 0};
  if (WIFEXITED(status))
    e.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    e.exit_code = 128 + WTERMSIG(status);
  return e;
}

int run_child(const std::filesystem::path& program, const std::vector<std::string>& args,
              const std::filesystem::path& log) {
  const pid_t pid = start_child(program, args, log);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return 127;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}

std::string last_line(const std::filesystem::path& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line)) {
    // Progress bars redraw with '\r': the last segment is what was shown.
    const auto cr = line.find_last_of('\r', line.size() > 1 ? line.size() - 2 : 0);
    if (cr != std::string::npos && cr + 1 < line.size()) line = line.substr(cr + 1);
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  }
  while (!last.empty() && (last.back() == '\r' || last.back() == ' ')) last.pop_back();
  return last;
}

}  // namespace s2s::report
