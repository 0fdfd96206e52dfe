// Helpers of the process tests of `s2s experiment` (tests/report/experiment_*_test.cpp), which
// read what the stand-in s2s (fixtures/experiment/fake_s2s.sh) recorded.
#pragma once

#include <sstream>
#include <string>
#include <vector>

namespace s2s::report::test {

// The lines of `text` that contain `needle`, in order.
inline std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) out.push_back(line);
  return out;
}

}  // namespace s2s::report::test
