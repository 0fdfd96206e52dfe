// Helpers of the data tests: temporary directories, files, and running the CLI as a process.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace s2s::test {

// A fresh directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "s2s_data_XXXXXX").string();
    path_ = ::mkdtemp(&pattern[0]);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Single-quotes an argument for /bin/sh.
inline std::string shell_quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

struct ProcessResult {
  int status = -1;
  std::string out;
  std::string err;
};

// Runs a shell command line, capturing stdout, stderr and the exit status.
inline ProcessResult run_command(const std::string& command) {
  TempDir dir;
  const std::string out = dir.file("out"), err = dir.file("err");
  const std::string line = command + " >" + shell_quote(out) + " 2>" + shell_quote(err);
  const int raw = std::system(line.c_str());
  ProcessResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

// Runs shell command lines concurrently (each CLI start loads LibTorch, ~1 s of CPU), and
// returns their results in order.
inline std::vector<ProcessResult> run_commands(const std::vector<std::string>& commands) {
  TempDir dir;
  std::string script;
  for (size_t i = 0; i < commands.size(); ++i) {
    const std::string base = dir.file(std::to_string(i));
    script += "(" + commands[i] + " >" + shell_quote(base + ".out") + " 2>" +
              shell_quote(base + ".err") + "; echo $? >" + shell_quote(base + ".status") + ") &\n";
  }
  script += "wait\n";
  const int raw = std::system(("/bin/sh -c " + shell_quote(script)).c_str());
  (void)raw;
  std::vector<ProcessResult> results(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    const std::string base = dir.file(std::to_string(i));
    const std::string status = read_text(base + ".status");
    results[i].status = status.empty() ? -1 : std::stoi(status);
    results[i].out = read_text(base + ".out");
    results[i].err = read_text(base + ".err");
  }
  return results;
}

inline std::string cli() {
  return shell_quote(S2S_CLI_PATH);
}

// Runs build/s2s with the given (already shell-quoted where needed) arguments.
inline ProcessResult run_cli(const std::string& args) {
  return run_command(shell_quote(S2S_CLI_PATH) + " " + args);
}

}  // namespace s2s::test
