// Errors a user can act on. The CLI prints what() as one line and exits with exit_code().
#pragma once

#include <stdexcept>
#include <string>

namespace s2s {

// Thrown for bad input (a malformed file, an absurd flag, a corrupt checkpoint).
// The message names the file, line or flag: "train.csv:17: row has 3 fields, expected 2".
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, int exit_code = 2)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

}  // namespace s2s
