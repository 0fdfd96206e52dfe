// Grapheme-to-phoneme data from the CMU pronouncing dictionary (Debian's pocketsphinx-en-us
// ships it as /usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict): each line a word and its
// phones, alternates written `word(2)`, `word(3)`... The pairs are the word's letters, space-
// separated, and its phones without stress digits (AH0 -> AH), split into train/valid/test BY
// WORD: every pronunciation of a word lands in the same split, so a test word was never seen in
// training under another pronunciation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "s2s/corpus.h"

namespace s2s {

struct Pronunciation {
  std::string word;  // lower case, without the (N) of an alternate
  Pair pair;         // source: the word's characters (UTF-8 code points); target: phones
};

// Parses dictionary text; `name` stands for the path in errors. Blank lines and ";;;" comment
// lines are skipped, and anything after '#' on a line (CMUdict's remarks) is ignored. Throws
// s2s::Error "name:line: what is wrong" for a line without phones, a bad (N) marker, a phone
// that is not upper-case letters (stress digits allowed), or invalid UTF-8.
std::vector<Pronunciation> parse_cmudict(std::string_view text, const std::string& name);
// Reads and parses a dictionary file ("path: cannot open ..." when missing).
std::vector<Pronunciation> read_cmudict(const std::string& path);

struct G2pSplitOptions {
  double valid_fraction = 0.05;  // of the distinct words
  double test_fraction = 0.05;
  uint64_t seed = 1;
};

struct G2pSplit {
  std::vector<Pair> train, valid, test;  // each in dictionary order
  int64_t train_words = 0, valid_words = 0, test_words = 0;
};

// Shuffles the distinct words with `seed` (s2s's own RNG: the same split on every platform),
// gives the first round(test_fraction x words) to test, the next round(valid_fraction x words)
// to valid and the rest to train. Throws s2s::Error for fractions outside [0, 1) or summing to
// 1 or more.
G2pSplit split_by_word(const std::vector<Pronunciation>& entries, const G2pSplitOptions& options);

}  // namespace s2s
