// The data-file reader: a streaming RFC 4180 parser that interns tokens straight into a Corpus.
// Files are read in chunks (never whole), so memory is the corpus plus one chunk.
#include <fmt/core.h>

#include <sys/stat.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "data/utf8.h"
#include "s2s/csv.h"
#include "s2s/error.h"

namespace s2s {
namespace {

constexpr size_t kChunkBytes = size_t{4} << 20;
constexpr size_t kMaxSkipExamples = 10;

// Where the bytes come from: a file read in chunks, or text already in memory.
class Input {
 public:
  // In-memory text: everything is available at once.
  explicit Input(std::string_view text) : view_(text), eof_(true) {}

  // A file: opened here, read on demand by more().
  Input(std::FILE* file, size_t max_record) : file_(file), max_record_(max_record) {
    buffer_.resize(kChunkBytes);
  }
  ~Input() {
    if (file_ != nullptr) std::fclose(file_);
  }
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;

  // The unconsumed bytes.
  const char* begin() const { return view_.data() + pos_; }
  const char* end() const { return view_.data() + view_.size(); }
  bool eof() const { return eof_; }
  void consume(size_t n) { pos_ += n; }

  // Reads more bytes, keeping the unconsumed ones; false when the file has no more.
  bool more(const std::string& name) {
    if (eof_) return false;
    const size_t keep = view_.size() - pos_;
    if (keep > 0 && pos_ > 0) std::memmove(&buffer_[0], &buffer_[pos_], keep);
    pos_ = 0;
    if (keep == buffer_.size()) {
      // One record fills the buffer: grow, within the record limit (the scanner stops there).
      buffer_.resize(std::min(buffer_.size() * 2, std::max(buffer_.size(), max_record_ + 16)));
      if (keep == buffer_.size()) buffer_.resize(buffer_.size() + kChunkBytes);
    }
    const size_t got = std::fread(&buffer_[keep], 1, buffer_.size() - keep, file_);
    if (got < buffer_.size() - keep) {
      if (std::ferror(file_)) {
        throw Error(fmt::format("{}: read error: {}", name, std::strerror(errno)));
      }
      eof_ = true;
    }
    view_ = std::string_view(buffer_.data(), keep + got);
    return got > 0;
  }

 private:
  std::FILE* file_ = nullptr;
  size_t max_record_ = 0;
  std::string buffer_;
  std::string_view view_;
  size_t pos_ = 0;
  bool eof_ = false;
};

enum class Scan {
  Record,        // a complete record (possibly with a content error)
  NeedMore,      // the buffer ends inside the record
  TooLong,       // an unquoted record longer than the limit
  Unterminated,  // a quoted field reaches the end of the file or the limit
};

// One parsed record: its fields (unescaped) and how many input bytes and lines it took.
struct Record {
  std::vector<std::string> fields;
  size_t count = 0;  // fields in use (fields.size() only grows, to keep capacity)
  size_t bytes = 0;
  int64_t lines = 0;
  bool quoted = false;
  std::string error;  // first content problem (bad byte, text after a closing quote)

  void reset() {
    count = 1;
    if (fields.empty()) fields.emplace_back();
    fields[0].clear();
    bytes = 0;
    lines = 0;
    quoted = false;
    error.clear();
  }
  std::string& current() { return fields[count - 1]; }
  void next_field() {
    ++count;
    if (fields.size() < count) fields.emplace_back();
    fields[count - 1].clear();
  }
  bool blank() const { return count == 1 && fields[0].empty() && !quoted; }
};

// Bytes an unquoted field takes as they are: printable ASCII except ',' and '"', and tab.
struct PlainTable {
  bool plain[256];
  constexpr PlainTable() : plain() {
    for (int c = 0x20; c < 0x7f; ++c) plain[c] = c != ',' && c != '"';
    plain[static_cast<int>('\t')] = true;
    plain[0x7f] = true;
  }
};
constexpr PlainTable kPlain;

// Checks one byte that is not plain ASCII (a control byte or the lead of a UTF-8 sequence).
// Returns how many bytes it spans (>= 1), or 0 if the buffer ends inside a UTF-8 sequence
// and more input may come. Records the first problem in `error`.
size_t check_special_byte(const char* p, const char* end, bool eof, std::string& error) {
  const auto c = static_cast<unsigned char>(*p);
  if (c < 0x80) {
    if (error.empty()) {
      error = fmt::format("control byte 0x{:02x}; this looks like a binary file, not CSV", c);
    }
    return 1;
  }
  const int n = data::utf8_sequence_length(reinterpret_cast<const unsigned char*>(p),
                                           reinterpret_cast<const unsigned char*>(end));
  if (n > 0) return static_cast<size_t>(n);
  if (n < 0 && !eof) return 0;
  if (error.empty()) error = fmt::format("invalid UTF-8 (byte 0x{:02x})", c);
  return 1;
}

// Parses one record from [begin, end). `eof` says no bytes follow `end`.
Scan scan_record(const char* begin, const char* end, bool eof, size_t max_bytes, Record& rec) {
  enum class State { FieldStart, Unquoted, Quoted, AfterQuote };
  rec.reset();
  State state = State::FieldStart;
  const char* p = begin;
  auto finish = [&](const char* next) {
    rec.bytes = static_cast<size_t>(next - begin);
    return Scan::Record;
  };
  while (true) {
    if (static_cast<size_t>(p - begin) > max_bytes) {
      return state == State::Quoted ? Scan::Unterminated : Scan::TooLong;
    }
    if (p == end) {
      if (!eof) return Scan::NeedMore;
      if (state == State::Quoted) return Scan::Unterminated;
      return finish(p);  // the last record, without a final newline
    }
    const char c = *p;
    switch (state) {
      case State::FieldStart:
        if (c == '"') {
          state = State::Quoted;
          rec.quoted = true;
          ++p;
          continue;
        }
        state = State::Unquoted;
        [[fallthrough]];
      case State::Unquoted: {
        const char* q = p;
        while (q < end && kPlain.plain[static_cast<unsigned char>(*q)]) ++q;
        rec.current().append(p, static_cast<size_t>(q - p));
        p = q;
        if (p == end) continue;
        const char d = *p;
        if (d == ',') {
          rec.next_field();
          state = State::FieldStart;
          ++p;
        } else if (d == '\n') {
          ++rec.lines;
          return finish(p + 1);
        } else if (d == '\r') {
          if (p + 1 == end && !eof) return Scan::NeedMore;
          ++rec.lines;
          return finish(p + 1 < end && p[1] == '\n' ? p + 2 : p + 1);
        } else if (d == '"') {
          // A quote inside an unquoted field is a literal character (as pandas reads it).
          rec.current().push_back(d);
          ++p;
        } else {
          const size_t n = check_special_byte(p, end, eof, rec.error);
          if (n == 0) return Scan::NeedMore;
          rec.current().append(p, n);
          p += n;
        }
        break;
      }
      case State::Quoted: {
        const char* q = p;
        while (q < end && (kPlain.plain[static_cast<unsigned char>(*q)] || *q == ',')) ++q;
        rec.current().append(p, static_cast<size_t>(q - p));
        p = q;
        if (p == end) continue;
        const char d = *p;
        if (d == '"') {
          if (p + 1 == end && !eof) return Scan::NeedMore;
          if (p + 1 < end && p[1] == '"') {
            rec.current().push_back('"');
            p += 2;
          } else {
            state = State::AfterQuote;
            ++p;
          }
        } else if (d == '\n' || d == '\r') {
          if (d == '\r' && p + 1 == end && !eof) return Scan::NeedMore;
          if (d == '\n' || p + 1 == end || p[1] != '\n') ++rec.lines;
          rec.current().push_back(d);
          ++p;
        } else {
          const size_t n = check_special_byte(p, end, eof, rec.error);
          if (n == 0) return Scan::NeedMore;
          rec.current().append(p, n);
          p += n;
        }
        break;
      }
      case State::AfterQuote:
        if (c == ',') {
          rec.next_field();
          state = State::FieldStart;
          ++p;
        } else if (c == '\n') {
          ++rec.lines;
          return finish(p + 1);
        } else if (c == '\r') {
          if (p + 1 == end && !eof) return Scan::NeedMore;
          ++rec.lines;
          return finish(p + 1 < end && p[1] == '\n' ? p + 2 : p + 1);
        } else {
          if (rec.error.empty()) {
            const bool printable =
                static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
            rec.error = printable
                            ? fmt::format("unexpected character '{}' after a closing quote", c)
                            : fmt::format("unexpected byte 0x{:02x} after a closing quote",
                                          static_cast<unsigned char>(c));
          }
          state = State::Unquoted;  // read on to find where the record ends
        }
        break;
    }
  }
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Splits a field on whitespace and interns each token; returns the number of tokens.
void tokenize(const std::string& field, Corpus& corpus, std::vector<int32_t>& ids) {
  ids.clear();
  const char* p = field.data();
  const char* end = p + field.size();
  while (p < end) {
    while (p < end && is_space(*p)) ++p;
    const char* q = p;
    while (q < end && !is_space(*q)) ++q;
    if (q > p) ids.push_back(corpus.intern(std::string_view(p, static_cast<size_t>(q - p))));
    p = q;
  }
}

std::string abbreviate(std::string_view text, size_t max = 60) {
  std::string out;
  for (char c : text.substr(0, max)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  }
  if (text.size() > max) out += "...";
  return out;
}

class Parser {
 public:
  Parser(Input& input, const std::string& name, const CsvReadOptions& options,
         CsvReadReport* report)
      : in_(input), name_(name), options_(options), report_(report) {
    max_bytes_ = options.max_line_bytes > 0 ? static_cast<size_t>(options.max_line_bytes)
                                            : static_cast<size_t>(-1) / 2;
  }

  Corpus run(size_t size_hint) {
    Corpus corpus;
    // Every token takes at least 2 bytes (itself and a separator), every row at least 4: an
    // upper bound, so loading never reallocates. Pages never touched cost no memory.
    if (size_hint > 0 && size_hint < (size_t{1} << 32)) {
      corpus.reserve(size_hint / 4 + 1, size_hint / 2 + 1);
    }
    if (in_.end() == in_.begin()) in_.more(name_);
    skip_bom();
    if (!read_header()) {
      throw Error(fmt::format("{}: file is empty; expected the header 'source,target'", name_));
    }
    std::vector<int32_t> source, target;
    while (next_record()) {
      if (!row_error_.empty()) {
        bad_row(row_error_);
        continue;
      }
      if (rec_.blank()) continue;
      if (rec_.count != columns_) {
        bad_row(fmt::format("row has {} field{}, expected {}", rec_.count,
                            rec_.count == 1 ? "" : "s", columns_));
        continue;
      }
      if (!rec_.error.empty()) {
        bad_row(rec_.error);
        continue;
      }
      tokenize(rec_.fields[source_col_], corpus, source);
      tokenize(rec_.fields[target_col_], corpus, target);
      if (!check_side("source", source) || !check_side("target", target)) continue;
      corpus.add_ids(source.data(), source.size(), target.data(), target.size());
      ++rows_;
    }
    if (rows_ == 0) {
      if (skipped_ > 0) {
        throw Error(fmt::format("{}: no valid rows ({} bad row{} skipped)", name_, skipped_,
                                skipped_ == 1 ? "" : "s"));
      }
      throw Error(fmt::format("{}: no data rows after the header", name_));
    }
    if (report_ != nullptr) {
      report_->rows = rows_;
      report_->skipped_rows = skipped_;
    }
    return corpus;
  }

 private:
  void skip_bom() {
    if (in_.end() - in_.begin() >= 3 && std::memcmp(in_.begin(), "\xEF\xBB\xBF", 3) == 0) {
      in_.consume(3);
    }
  }

  // Reads the next record into rec_; false at the end of input. Sets line_ to the record's
  // first line. A record that cannot be delimited (unterminated quote, over-long line) sets
  // row_error_ and is skipped up to the end of its first line.
  bool next_record() {
    line_ = next_line_;
    row_error_.clear();
    while (true) {
      if (in_.begin() == in_.end() && in_.eof()) return false;
      const Scan scan = scan_record(in_.begin(), in_.end(), in_.eof(), max_bytes_, rec_);
      switch (scan) {
        case Scan::Record:
          in_.consume(rec_.bytes);
          next_line_ = line_ + rec_.lines;
          return true;
        case Scan::NeedMore:
          in_.more(name_);  // reads more or marks the end, so the next scan decides
          continue;
        case Scan::TooLong:
          row_error_ = fmt::format("line is longer than {} bytes", max_bytes_);
          skip_line();
          return true;
        case Scan::Unterminated:
          row_error_ =
              in_.eof() && static_cast<size_t>(in_.end() - in_.begin()) <= max_bytes_
                  ? std::string("unterminated quoted field")
                  : fmt::format("unterminated quoted field (no closing quote within {} bytes)",
                                max_bytes_);
          skip_line();
          return true;
      }
    }
  }

  // Drops input through the end of the current physical line (\n, \r\n or \r).
  void skip_line() {
    next_line_ = line_ + 1;
    while (true) {
      const char* b = in_.begin();
      const char* e = in_.end();
      const char* p = b;
      while (p < e && *p != '\n' && *p != '\r') ++p;
      if (p < e) {
        if (*p == '\r' && p + 1 == e && !in_.eof()) {
          in_.consume(static_cast<size_t>(p - b));
          in_.more(name_);
          continue;
        }
        const size_t n =
            static_cast<size_t>(p - b) + ((*p == '\r' && p + 1 < e && p[1] == '\n') ? 2 : 1);
        in_.consume(n);
        return;
      }
      in_.consume(static_cast<size_t>(e - b));
      if (!in_.more(name_)) return;
    }
  }

  // The first non-blank record names the columns. False if the file holds nothing.
  bool read_header() {
    while (next_record()) {
      if (!row_error_.empty()) header_error(row_error_);
      if (rec_.blank()) continue;
      if (!rec_.error.empty()) header_error(rec_.error);
      bool has_source = false, has_target = false;
      for (size_t i = 0; i < rec_.count; ++i) {
        const std::string& name = rec_.fields[i];
        if (name == "source" || name == "target") {
          bool& seen = name == "source" ? has_source : has_target;
          if (seen) header_error(fmt::format("header names the column '{}' twice", name));
          seen = true;
          (name == "source" ? source_col_ : target_col_) = i;
        }
      }
      if (!has_source || !has_target) {
        std::string found;
        for (size_t i = 0; i < rec_.count; ++i) found += (i ? "," : "") + rec_.fields[i];
        header_error(fmt::format("header has no column '{}' (found '{}'); expected 'source,target'",
                                 has_source ? "target" : "source", abbreviate(found)));
      }
      columns_ = rec_.count;
      return true;
    }
    return false;
  }

  [[noreturn]] void header_error(const std::string& what) const {
    throw Error(fmt::format("{}:{}: {}", name_, line_, what));
  }

  bool check_side(const char* side, const std::vector<int32_t>& ids) {
    if (ids.empty()) {
      bad_row(fmt::format("empty {}", side));
      return false;
    }
    if (options_.max_length > 0 && static_cast<int64_t>(ids.size()) > options_.max_length) {
      bad_row(fmt::format("{} has {} tokens, more than the maximum {}", side, ids.size(),
                          options_.max_length));
      return false;
    }
    return true;
  }

  void bad_row(const std::string& what) {
    std::string message = fmt::format("{}:{}: {}", name_, line_, what);
    if (!options_.skip_bad_rows) throw Error(message);
    ++skipped_;
    if (report_ != nullptr && report_->skipped_examples.size() < kMaxSkipExamples) {
      report_->skipped_examples.push_back(std::move(message));
    }
  }

  Input& in_;
  const std::string& name_;
  const CsvReadOptions& options_;
  CsvReadReport* report_;
  size_t max_bytes_;
  Record rec_;
  std::string row_error_;
  int64_t line_ = 1;
  int64_t next_line_ = 1;
  size_t columns_ = 0;
  size_t source_col_ = 0;
  size_t target_col_ = 0;
  int64_t rows_ = 0;
  int64_t skipped_ = 0;
};

}  // namespace

Corpus parse_pairs_csv(std::string_view text, const std::string& name,
                       const CsvReadOptions& options, CsvReadReport* report) {
  if (report != nullptr) *report = CsvReadReport{};
  Input input(text);
  return Parser(input, name, options, report).run(text.size());
}

Corpus read_pairs_csv(const std::string& path, const CsvReadOptions& options,
                      CsvReadReport* report) {
  if (report != nullptr) *report = CsvReadReport{};
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw Error(fmt::format("{}: is a directory, not a CSV file", path));
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    throw Error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  const size_t max_record =
      options.max_line_bytes > 0 ? static_cast<size_t>(options.max_line_bytes) : size_t{1} << 40;
  Input input(file, max_record);
  const size_t size = st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0;
  return Parser(input, path, options, report).run(size);
}

}  // namespace s2s
