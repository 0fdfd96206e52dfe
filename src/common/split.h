// Splitting a line of text on one separator, shared by the places that parse small
// hand-written strings (grid specs, /proc files). Not for CSV: src/data has a real parser.
#pragma once

#include <sstream>
#include <string>
#include <vector>

namespace s2s {

// "a,b," -> {"a", "b", ""}: empty parts are kept, including a trailing one.
inline std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, sep)) parts.push_back(part);
  if (!text.empty() && text.back() == sep) parts.emplace_back();
  return parts;
}

}  // namespace s2s
