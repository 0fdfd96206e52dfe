// Corpus: interned token strings plus flat id arrays (see include/s2s/corpus.h).
#include "s2s/corpus.h"

#include <algorithm>
#include <limits>

#include "s2s/error.h"

namespace s2s {

Corpus::Corpus() {
  std::fill(std::begin(byte_ids_), std::end(byte_ids_), -1);
}

int32_t Corpus::intern(std::string_view token) {
  if (token.size() == 1) {
    int32_t& slot = byte_ids_[static_cast<unsigned char>(token[0])];
    if (slot >= 0) return slot;
  } else {
    auto it = index_.find(token);
    if (it != index_.end()) return it->second;
  }
  if (tokens_.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    throw Error("corpus: more than 2^31 distinct tokens");
  }
  const auto id = static_cast<int32_t>(tokens_.size());
  tokens_.emplace_back(token);
  if (token.size() == 1) {
    byte_ids_[static_cast<unsigned char>(token[0])] = id;
  } else {
    index_.emplace(std::string_view(tokens_.back()), id);
  }
  return id;
}

int32_t Corpus::find(std::string_view token) const {
  if (token.size() == 1) return byte_ids_[static_cast<unsigned char>(token[0])];
  auto it = index_.find(token);
  return it == index_.end() ? -1 : it->second;
}

void Corpus::reserve(size_t rows, size_t tokens) {
  offsets_.reserve(2 * rows);
  ids_.reserve(tokens);
}

void Corpus::add_ids(const int32_t* source, size_t source_len, const int32_t* target,
                     size_t target_len) {
  ids_.insert(ids_.end(), source, source + source_len);
  offsets_.push_back(static_cast<int64_t>(ids_.size()));
  ids_.insert(ids_.end(), target, target + target_len);
  offsets_.push_back(static_cast<int64_t>(ids_.size()));
}

void Corpus::add(const std::vector<std::string_view>& source,
                 const std::vector<std::string_view>& target) {
  for (std::string_view t : source) ids_.push_back(intern(t));
  offsets_.push_back(static_cast<int64_t>(ids_.size()));
  for (std::string_view t : target) ids_.push_back(intern(t));
  offsets_.push_back(static_cast<int64_t>(ids_.size()));
}

void Corpus::add(const Pair& pair) {
  for (const std::string& t : pair.source) ids_.push_back(intern(t));
  offsets_.push_back(static_cast<int64_t>(ids_.size()));
  for (const std::string& t : pair.target) ids_.push_back(intern(t));
  offsets_.push_back(static_cast<int64_t>(ids_.size()));
}

namespace {
std::vector<std::string> strings_of(const Corpus& corpus, TokenSpan span) {
  std::vector<std::string> out;
  out.reserve(span.size());
  for (int32_t id : span) out.push_back(corpus.token(id));
  return out;
}
}  // namespace

std::vector<std::string> Corpus::source_tokens(size_t row) const {
  return strings_of(*this, source(row));
}
std::vector<std::string> Corpus::target_tokens(size_t row) const {
  return strings_of(*this, target(row));
}
Pair Corpus::pair(size_t row) const {
  return Pair{source_tokens(row), target_tokens(row)};
}

Corpus make_corpus(const std::vector<Pair>& pairs) {
  Corpus corpus;
  size_t tokens = 0;
  for (const Pair& p : pairs) tokens += p.source.size() + p.target.size();
  corpus.reserve(pairs.size(), tokens);
  for (const Pair& p : pairs) corpus.add(p);
  return corpus;
}

CorpusStats corpus_stats(const Corpus& corpus) {
  CorpusStats stats;
  stats.rows = static_cast<int64_t>(corpus.size());
  stats.distinct_tokens = static_cast<int64_t>(corpus.num_tokens());
  if (corpus.empty()) return stats;
  auto side = [&](auto get) {
    LengthStats s;
    s.min = std::numeric_limits<int64_t>::max();
    double sum = 0;
    for (size_t r = 0; r < corpus.size(); ++r) {
      const auto n = static_cast<int64_t>(get(r).size());
      s.min = std::min(s.min, n);
      s.max = std::max(s.max, n);
      sum += static_cast<double>(n);
    }
    s.mean = sum / static_cast<double>(corpus.size());
    return s;
  };
  stats.source = side([&](size_t r) { return corpus.source(r); });
  stats.target = side([&](size_t r) { return corpus.target(r); });
  return stats;
}

}  // namespace s2s
