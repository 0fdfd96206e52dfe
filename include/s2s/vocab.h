// The vocabulary: token strings <-> model ids. Built from the training data, saved beside a
// model (vocab.json) and embeddable in a checkpoint (to_json / from_json).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "s2s/corpus.h"

namespace s2s {

// Fixed ids of the special tokens, the same in every vocabulary.
constexpr int64_t kPadId = 0;  // "<pad>": padding after a sequence's <eos>
constexpr int64_t kSosId = 1;  // "<sos>": the decoder's first input
constexpr int64_t kEosId = 2;  // "<eos>": appended to every source and target
constexpr int64_t kUnkId = 3;  // "<unk>": any token the training data never had
constexpr const char* kPadToken = "<pad>";
constexpr const char* kSosToken = "<sos>";
constexpr const char* kEosToken = "<eos>";
constexpr const char* kUnkToken = "<unk>";
constexpr int64_t kNumSpecialTokens = 4;

class Vocab {
 public:
  // Only the four special tokens.
  Vocab();

  // Specials, then every token of `corpus` in its first-seen order (row by row, source before
  // target), which is the corpus's own id order. A data token spelled like a special token
  // ("<unk>") maps to that special id.
  static Vocab from_corpus(const Corpus& corpus);
  // Specials, then the given tokens in order, skipping repeats.
  static Vocab from_tokens(const std::vector<std::string>& tokens);

  // Adds a token if new; returns its id.
  int64_t add(std::string_view token);

  // The id of a token, kUnkId when unknown. Does not count: see encode() / UnknownCounter.
  int64_t id(std::string_view token) const;
  // True if the vocabulary has the token.
  bool contains(std::string_view token) const;
  // The token of an id; throws s2s::Error if out of range.
  const std::string& token(int64_t id) const;
  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  const std::vector<std::string>& tokens() const { return tokens_; }

  // Ids of tokens; unknown tokens become kUnkId and, if `unknown` is given, are added to it.
  // No <eos> is appended.
  std::vector<int64_t> encode(const std::vector<std::string>& tokens,
                              int64_t* unknown = nullptr) const;
  // Tokens of ids, stopping at the first <eos> and leaving out <pad> and <sos>.
  std::vector<std::string> decode(const std::vector<int64_t>& ids) const;

  // JSON: {"format": "s2s-vocab", "version": 1, "tokens": ["<pad>", "<sos>", "<eos>", "<unk>",
  // ...]} (id = position). from_json checks the format and the special tokens and throws
  // s2s::Error (naming `source`, e.g. the file) when they are wrong.
  std::string to_json() const;
  static Vocab from_json(std::string_view json, const std::string& source = "vocab");

  // vocab.json beside a model; save is atomic (temp file, fsync, rename).
  void save(const std::string& path) const;
  static Vocab load(const std::string& path);

  friend bool operator==(const Vocab& a, const Vocab& b) { return a.tokens_ == b.tokens_; }
  friend bool operator!=(const Vocab& a, const Vocab& b) { return !(a == b); }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
};

// Counts unknown tokens while data is mapped through a vocabulary, so a tool reports them once
// ("valid.csv: 12 tokens in 5 rows are not in the vocabulary, mapped to <unk>: x, y"), never
// once per row.
struct UnknownTokens {
  int64_t tokens = 0;  // unknown token occurrences
  int64_t rows = 0;    // rows with at least one unknown token
  // Up to 10 distinct unknown token strings, first seen first.
  std::vector<std::string> examples;

  bool any() const { return tokens > 0; }
  // "12 tokens in 5 rows are not in the vocabulary and map to <unk> (e.g. x, y)", or "".
  std::string describe() const;
};

}  // namespace s2s
