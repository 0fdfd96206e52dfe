// Data files: CSV with a header naming the columns `source` and `target` (any order, extra
// columns ignored), each field a sequence of tokens separated by whitespace. Quoting follows
// RFC 4180; CRLF or LF line ends, a UTF-8 byte-order mark and a missing final newline are all
// accepted. Files written here read back unchanged with pandas (`pd.read_csv(path, dtype=str)`)
// and files pandas writes (`df.to_csv(path, index=False)` or with its index) read here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "s2s/corpus.h"

namespace s2s {

struct CsvReadOptions {
  // Skip malformed rows instead of failing; CsvReadReport counts them. File-level problems (a
  // missing or empty file, a bad header, no valid rows at all) still throw.
  bool skip_bad_rows = false;
  // Longest accepted source or target, in tokens. 0 means no limit.
  int64_t max_length = 0;
  // Longest accepted physical line (or quoted record), in bytes: guards against binary input.
  int64_t max_line_bytes = 1 << 20;
};

struct CsvReadReport {
  int64_t rows = 0;          // rows loaded
  int64_t skipped_rows = 0;  // bad rows skipped (only with skip_bad_rows)
  // The first few skip messages, each "path:line: what is wrong" (at most 10 kept).
  std::vector<std::string> skipped_examples;
};

// Reads a data file. Bad input throws s2s::Error with one line naming the file and line:
//   "train.csv: cannot open: No such file or directory"
//   "train.csv: file is empty; expected the header 'source,target'"
//   "train.csv:1: header has no column 'target'; expected 'source,target'"
//   "train.csv:17: row has 3 fields, expected 2"
//   "train.csv:17: empty source" / "train.csv:17: empty target"
//   "train.csv:17: unterminated quoted field"
//   "train.csv:17: unexpected character 'x' after a closing quote"
//   "train.csv:17: source has 12 tokens, more than the maximum 10"
//   "train.csv:17: line is longer than 1048576 bytes"
//   "train.csv:17: invalid UTF-8 (byte 0xff)"
//   "train.csv:17: control byte 0x00; this looks like a binary file, not CSV"
//   "train.csv: no data rows after the header"
// Line numbers are 1-based physical lines (the header is line 1); a record spanning lines
// (quoted newlines) is named by the line it starts on.
Corpus read_pairs_csv(const std::string& path, const CsvReadOptions& options = {},
                      CsvReadReport* report = nullptr);

// The same parser over text in memory; `name` stands for the path in error messages.
Corpus parse_pairs_csv(std::string_view text, const std::string& name,
                       const CsvReadOptions& options = {}, CsvReadReport* report = nullptr);

// CSV text of pairs: header "source,target", LF line ends, tokens joined by single spaces,
// a field quoted (with "" escapes) only when it holds a comma, quote, CR or LF.
std::string format_pairs_csv(const std::vector<Pair>& pairs);

// Writes format_pairs_csv(pairs) atomically (temp file beside `path`, fsync, rename): a
// previous file at `path` is never left half-written. Throws s2s::Error on I/O failure.
void write_pairs_csv(const std::string& path, const std::vector<Pair>& pairs);

}  // namespace s2s
