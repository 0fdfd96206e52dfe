// Fuzzes the data-file reader (src/data/csv_reader.cpp) with arbitrary bytes as a CSV file.
// Checks: only s2s::Error escapes; the streaming file reader and the in-memory parser agree;
// whatever parses writes back (format_pairs_csv) to text that parses to the same pairs.
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "s2s/csv.h"
#include "s2s/error.h"

namespace {

std::vector<s2s::Pair> pairs_of(const s2s::Corpus& corpus) {
  std::vector<s2s::Pair> out;
  for (size_t i = 0; i < corpus.size(); ++i) out.push_back(corpus.pair(i));
  return out;
}

// Parses `text` in memory; empty when the reader rejects it (the message is the error).
bool parse(std::string_view text, const s2s::CsvReadOptions& options, std::vector<s2s::Pair>* out,
           std::string* error) {
  try {
    *out = pairs_of(s2s::parse_pairs_csv(text, "fuzz.csv", options));
    return true;
  } catch (const s2s::Error& e) {
    *error = e.what();
    return false;
  }
}

bool same_pairs(const std::vector<s2s::Pair>& a, const std::vector<s2s::Pair>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].source != b[i].source || a[i].target != b[i].target) return false;
  }
  return true;
}

// The same bytes read from a file by the chunked reader give the same answer as in memory.
void compare_with_file(std::string_view text, const s2s::CsvReadOptions& options, bool ok,
                       const std::vector<s2s::Pair>& pairs) {
  static const std::string path = "/tmp/s2s-fuzz-csv-" + std::to_string(::getpid()) + ".csv";
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  try {
    const auto from_file = pairs_of(s2s::read_pairs_csv(path, options));
    S2S_FUZZ_REQUIRE(ok && same_pairs(from_file, pairs));
  } catch (const s2s::Error& e) {
    S2S_FUZZ_REQUIRE(!ok);
    // One line, as the CLI prints it.
    const std::string message = e.what();
    S2S_FUZZ_REQUIRE(message.find('\n') == std::string::npos);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The first byte picks the options, so limits and row skipping get fuzzed too.
  s2s::CsvReadOptions options;
  if (size > 0) {
    options.skip_bad_rows = (data[0] & 1) != 0;
    options.max_length = (data[0] & 2) != 0 ? 3 : 0;
    options.max_line_bytes = (data[0] & 4) != 0 ? 64 : (1 << 20);
  }
  std::vector<s2s::Pair> pairs;
  std::string error;
  const bool ok = parse(text, options, &pairs, &error);

  // The same bytes through a file: the chunked reader must give the same answer. Half the
  // inputs only (bit 3 of the first byte): a file costs a 4 MB buffer, a tenth of the speed.
  if (size > 0 && (data[0] & 8) != 0) compare_with_file(text, options, ok, pairs);
  if (!ok) {
    S2S_FUZZ_REQUIRE(error.find('\n') == std::string::npos);
    return 0;
  }
  // What was read writes back to a file that reads the same.
  std::vector<s2s::Pair> again;
  std::string again_error;
  S2S_FUZZ_REQUIRE(parse(s2s::format_pairs_csv(pairs), {}, &again, &again_error));
  S2S_FUZZ_REQUIRE(same_pairs(again, pairs));
  return 0;
}
