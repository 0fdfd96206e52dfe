// Token-sequence pairs in two shapes: Pair, a convenient value for generators, tests and
// inference, and Corpus, the compact store a data file is loaded into (a million rows must fit
// in a few times the file's size, so no std::string per token).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace s2s {

// One example: a source sequence and the target sequence the model should produce.
struct Pair {
  std::vector<std::string> source;
  std::vector<std::string> target;

  friend bool operator==(const Pair& a, const Pair& b) {
    return a.source == b.source && a.target == b.target;
  }
  friend bool operator!=(const Pair& a, const Pair& b) { return !(a == b); }
};

// A read-only view of consecutive token ids (C++17 has no std::span).
struct TokenSpan {
  const int32_t* ids = nullptr;
  size_t length = 0;

  const int32_t* begin() const { return ids; }
  const int32_t* end() const { return ids + length; }
  size_t size() const { return length; }
  bool empty() const { return length == 0; }
  int32_t operator[](size_t i) const { return ids[i]; }
};

// Rows of (source, target) token sequences. Each distinct token string is stored once and gets
// a corpus-local id in first-seen order (row by row, source tokens before target tokens: the
// order a vocabulary built from this corpus uses). Sequences are flat arrays of those ids.
//
// Corpus ids are NOT vocabulary ids: Vocab (vocab.h) maps token strings to model ids, and
// PairDataset (dataset.h) maps corpus ids to vocabulary ids once per corpus.
class Corpus {
 public:
  Corpus();

  // Appends a row. Empty sequences are allowed here (the CSV reader rejects them).
  void add(const std::vector<std::string_view>& source,
           const std::vector<std::string_view>& target);
  void add(const Pair& pair);

  // Number of rows.
  size_t size() const { return offsets_.size() / 2; }
  bool empty() const { return size() == 0; }

  // Token ids of row `row` (0-based). Valid until the corpus is modified.
  TokenSpan source(size_t row) const { return span(2 * row); }
  TokenSpan target(size_t row) const { return span(2 * row + 1); }

  // The string of a corpus token id, and the number of distinct token strings.
  const std::string& token(int32_t id) const { return tokens_[static_cast<size_t>(id)]; }
  size_t num_tokens() const { return tokens_.size(); }
  // The id of a token string, or -1 if the corpus never saw it.
  int32_t find(std::string_view token) const;

  // Row `row` as strings (for printing, tests, inference).
  Pair pair(size_t row) const;
  std::vector<std::string> source_tokens(size_t row) const;
  std::vector<std::string> target_tokens(size_t row) const;

  // Total number of tokens stored (all sources and targets).
  size_t total_tokens() const { return ids_.size(); }

  // Reserves room for about `rows` rows and `tokens` tokens (the CSV reader's estimate from
  // the file size), so loading does not reallocate and copy.
  void reserve(size_t rows, size_t tokens);

  // Interns a token string; returns its corpus id.
  int32_t intern(std::string_view token);
  // Appends a row of already interned ids (fast path for the CSV reader).
  void add_ids(const int32_t* source, size_t source_len, const int32_t* target, size_t target_len);

 private:
  TokenSpan span(size_t k) const {
    const size_t begin = k == 0 ? 0 : static_cast<size_t>(offsets_[k - 1]);
    const size_t end = static_cast<size_t>(offsets_[k]);
    return TokenSpan{ids_.data() + begin, end - begin};
  }

  // Token strings by corpus id. A deque so the string_views in index_ stay valid.
  std::deque<std::string> tokens_;
  std::unordered_map<std::string_view, int32_t> index_;
  // Single-byte tokens (digits, the common case) skip the hash: id per byte value, or -1.
  int32_t byte_ids_[256];
  // All sequences back to back: source 0, target 0, source 1, target 1, ...
  std::vector<int32_t> ids_;
  // End offset in ids_ of each sequence, in the same order (2 per row).
  std::vector<int64_t> offsets_;
};

// Corpus of in-memory pairs (generators, tests).
Corpus make_corpus(const std::vector<Pair>& pairs);

// Length statistics of one side (source or target), in tokens, without <eos>.
struct LengthStats {
  int64_t min = 0;
  int64_t max = 0;
  double mean = 0.0;
};

// What `s2s data check` prints: rows, distinct tokens (the vocabulary a model trained on this
// corpus would have, without the 4 special tokens) and sequence lengths.
struct CorpusStats {
  int64_t rows = 0;
  int64_t distinct_tokens = 0;
  LengthStats source;
  LengthStats target;
};
CorpusStats corpus_stats(const Corpus& corpus);

}  // namespace s2s
