// Writing data files: minimal RFC 4180 quoting, which pandas reads back unchanged.
#include <fmt/core.h>

#include <string>

#include "s2s/csv.h"
#include "s2s/error.h"
#include "s2s/file_io.h"

namespace s2s {
namespace {

// A field must read back as the same tokens: none empty, none holding whitespace.
void check_tokens(const std::vector<std::string>& tokens, size_t row, const char* side) {
  if (tokens.empty()) throw Error(fmt::format("cannot write row {}: empty {}", row + 1, side));
  for (const std::string& t : tokens) {
    if (t.empty() || t.find_first_of(" \t\n\r\f\v") != std::string::npos) {
      throw Error(fmt::format("cannot write row {}: {} token '{}' is empty or holds whitespace",
                              row + 1, side, t));
    }
  }
}

void append_field(std::string& out, const std::vector<std::string>& tokens) {
  bool needs_quotes = false;
  for (const std::string& t : tokens) {
    if (t.find_first_of(",\"\r\n") != std::string::npos) needs_quotes = true;
  }
  if (needs_quotes) out.push_back('"');
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0) out.push_back(' ');
    for (char c : tokens[i]) {
      if (c == '"') out.push_back('"');
      out.push_back(c);
    }
  }
  if (needs_quotes) out.push_back('"');
}

}  // namespace

std::string format_pairs_csv(const std::vector<Pair>& pairs) {
  std::string out = "source,target\n";
  out.reserve(out.size() + pairs.size() * 48);
  for (size_t i = 0; i < pairs.size(); ++i) {
    const Pair& p = pairs[i];
    check_tokens(p.source, i, "source");
    check_tokens(p.target, i, "target");
    append_field(out, p.source);
    out.push_back(',');
    append_field(out, p.target);
    out.push_back('\n');
  }
  return out;
}

void write_pairs_csv(const std::string& path, const std::vector<Pair>& pairs) {
  write_file_atomic(path, format_pairs_csv(pairs));
}

}  // namespace s2s
