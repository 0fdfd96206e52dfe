// Child processes of `s2s experiment`: each training run is the s2s binary itself, started with
// `train` flags. A process per run (rather than the trainer library in this process) because
// the thread count is process-wide (configure_runtime), so --jobs runs can each have their own;
// a crash or NaN in one run cannot take the others down; and an interrupted run is resumed
// exactly as a user would resume it by hand (`s2s train --resume DIR`).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace s2s::report {

// Starts `program args...` with stdout and stderr appended to `log`, in its own process group
// (so a Ctrl-C reaches only `s2s experiment`, which then stops each child once, cleanly) and
// terminated if this process dies. Throws s2s::Error if it cannot start.
pid_t start_child(const std::filesystem::path& program, const std::vector<std::string>& args,
                  const std::filesystem::path& log);

struct ChildExit {
  pid_t pid = 0;
  int exit_code = 0;  // the exit status, or 128 + the signal that killed it
};

// A child that has exited, if any (does not block).
std::optional<ChildExit> poll_children();

// Runs a child to completion and returns its exit code.
int run_child(const std::filesystem::path& program, const std::vector<std::string>& args,
              const std::filesystem::path& log);

// The last non-empty line of a log, for one-line error messages.
std::string last_line(const std::filesystem::path& log);

}  // namespace s2s::report
