// Parsing and checking of the search options (include/s2s/search.h).
#include <fmt/core.h>

#include <cmath>
#include <cstdlib>

#include "s2s/error.h"
#include "s2s/search.h"

namespace s2s {

double LengthPenalty::divisor(int64_t length) const {
  switch (kind) {
    case Kind::None:
      return 1.0;
    case Kind::Average:
      return static_cast<double>(length);
    case Kind::Wu:
      return std::pow((5.0 + static_cast<double>(length)) / 6.0, alpha);
  }
  return 1.0;
}

std::string LengthPenalty::to_string() const {
  switch (kind) {
    case Kind::None:
      return "none";
    case Kind::Average:
      return "avg";
    case Kind::Wu:
      return fmt::format("wu:{}", alpha);
  }
  return "none";
}

LengthPenalty LengthPenalty::parse(const std::string& text) {
  LengthPenalty p;
  if (text == "none") return p;
  if (text == "avg") {
    p.kind = Kind::Average;
    return p;
  }
  if (text.rfind("wu:", 0) == 0) {
    const std::string number = text.substr(3);
    char* end = nullptr;
    const double alpha = number.empty() ? NAN : std::strtod(number.c_str(), &end);
    if (!number.empty() && end == number.c_str() + number.size() && alpha >= 0 && alpha <= 10) {
      p.kind = Kind::Wu;
      p.alpha = alpha;
      return p;
    }
  }
  throw Error(fmt::format(
      "--length-penalty: expected none, avg or wu:ALPHA with ALPHA in [0, 10], got '{}'", text));
}

int64_t SearchOptions::max_steps(int64_t source_tokens) const {
  if (max_len > 0) return max_len;
  return static_cast<int64_t>(std::floor(max_len_ratio * static_cast<double>(source_tokens))) + 2;
}

void SearchOptions::check() const {
  constexpr int64_t kMaxBeam = 1024;
  if (beam < 1 || beam > kMaxBeam) {
    throw Error(fmt::format("--beam must be in 1..{}, got {}", kMaxBeam, beam));
  }
  if (n_best < 1 || n_best > beam) {
    throw Error(fmt::format("--n-best must be in 1..--beam ({}), got {}", beam, n_best));
  }
  if (!(max_len_ratio >= 0 && max_len_ratio <= 100)) {
    throw Error(fmt::format("--max-len-ratio must be in [0, 100], got {}", max_len_ratio));
  }
  if (max_len < 0) throw Error(fmt::format("--max-len must be >= 0, got {}", max_len));
}

}  // namespace s2s
