// CMU pronouncing dictionary -> grapheme-to-phoneme pairs, split by word (include/s2s/g2p.h).
#include "s2s/g2p.h"

#include <fmt/core.h>

#include <cctype>
#include <cmath>
#include <unordered_map>

#include "data/rng.h"
#include "data/utf8.h"
#include "s2s/error.h"
#include "s2s/file_io.h"

namespace s2s {
namespace {

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    const size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// "word(2)" -> "word"; a plain word unchanged. Empty result: a malformed marker.
std::string_view strip_alternate(std::string_view word) {
  const size_t open = word.find('(');
  if (open == std::string_view::npos) return word;
  if (open == 0 || word.back() != ')' || open + 2 >= word.size()) return {};
  for (size_t i = open + 1; i + 1 < word.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(word[i]))) return {};
  }
  return word.substr(0, open);
}

// "AH0" -> "AH"; empty when the phone is not upper-case letters then optional digits.
std::string phone_without_stress(std::string_view phone) {
  size_t letters = 0;
  while (letters < phone.size() && std::isupper(static_cast<unsigned char>(phone[letters]))) {
    ++letters;
  }
  for (size_t i = letters; i < phone.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(phone[i]))) return {};
  }
  return std::string(phone.substr(0, letters));
}

}  // namespace

std::vector<Pronunciation> parse_cmudict(std::string_view text, const std::string& name) {
  std::vector<Pronunciation> out;
  int64_t number = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++number;
    const auto where = [&] { return fmt::format("{}:{}: ", name, number); };
    if (line.rfind(";;;", 0) == 0) continue;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    const auto f = fields(line);
    if (f.empty()) continue;
    if (f.size() < 2) throw Error(where() + fmt::format("'{}' has no phones", f[0]));
    const std::string_view word = strip_alternate(f[0]);
    if (word.empty()) {
      throw Error(where() + fmt::format("'{}': expected WORD or WORD(N)", f[0]));
    }
    Pronunciation p;
    const auto* bytes = reinterpret_cast<const unsigned char*>(word.data());
    for (size_t i = 0; i < word.size();) {
      const int n = data::utf8_sequence_length(bytes + i, bytes + word.size());
      if (n <= 0) throw Error(where() + "invalid UTF-8 in the word");
      std::string grapheme(word.substr(i, static_cast<size_t>(n)));
      if (n == 1) grapheme[0] = static_cast<char>(std::tolower(bytes[i]));
      p.word += grapheme;
      p.pair.source.push_back(std::move(grapheme));
      i += static_cast<size_t>(n);
    }
    for (size_t k = 1; k < f.size(); ++k) {
      std::string phone = phone_without_stress(f[k]);
      if (phone.empty()) {
        throw Error(where() + fmt::format("'{}' is not a phone (upper-case letters, then an "
                                          "optional stress digit)",
                                          f[k]));
      }
      p.pair.target.push_back(std::move(phone));
    }
    out.push_back(std::move(p));
  }
  if (out.empty()) throw Error(name + ": no pronunciations in the dictionary");
  return out;
}

std::vector<Pronunciation> read_cmudict(const std::string& path) {
  return parse_cmudict(read_file(path), path);
}

G2pSplit split_by_word(const std::vector<Pronunciation>& entries, const G2pSplitOptions& o) {
  const auto fraction_ok = [](double f) { return f >= 0 && f < 1; };
  if (!fraction_ok(o.valid_fraction) || !fraction_ok(o.test_fraction) ||
      o.valid_fraction + o.test_fraction >= 1) {
    throw Error(fmt::format(
        "--valid-fraction and --test-fraction must be in [0, 1) and sum to less than 1, got {} "
        "and {}",
        o.valid_fraction, o.test_fraction));
  }
  std::unordered_map<std::string, size_t> index;  // word -> position in `words`
  std::vector<std::string> words;
  for (const auto& e : entries) {
    if (index.emplace(e.word, words.size()).second) words.push_back(e.word);
  }
  std::vector<size_t> order(words.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  data::Rng rng(o.seed);
  data::shuffle(order.data(), order.size(), rng);
  const auto count = [&](double fraction) {
    return static_cast<size_t>(std::llround(fraction * static_cast<double>(words.size())));
  };
  const size_t n_test = count(o.test_fraction), n_valid = count(o.valid_fraction);
  enum Part : char { Train, Valid, Test };
  std::vector<char> part(words.size(), Train);
  for (size_t k = 0; k < order.size(); ++k) {
    part[order[k]] = k < n_test ? Test : k < n_test + n_valid ? Valid : Train;
  }
  G2pSplit split;
  split.test_words = static_cast<int64_t>(n_test);
  split.valid_words = static_cast<int64_t>(n_valid);
  split.train_words = static_cast<int64_t>(words.size() - n_test - n_valid);
  for (const auto& e : entries) {
    const char p = part[index.at(e.word)];
    (p == Test ? split.test : p == Valid ? split.valid : split.train).push_back(e.pair);
  }
  return split;
}

}  // namespace s2s
