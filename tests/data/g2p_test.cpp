// G2P data from a small CMU-format dictionary written by the tests: exact rows, the split by
// word, determinism, and errors naming file:line.
#include "s2s/g2p.h"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <map>
#include <set>

#include "s2s/csv.h"
#include "s2s/error.h"
#include "test_util.h"

namespace s2s {
namespace {

constexpr const char* kDict =
    ";;; a comment line\n"
    "abandon AH0 B AE1 N D AH0 N\n"
    "either IY1 DH ER0\n"
    "either(2) AY1 DH ER0\n"
    "\n"
    "read R IY1 D\n"
    "read(2) R EH1 D\n"
    "zoo Z UW1\n"
    "Hello HH AH0 L OW1 # a remark\n"
    "a AH0\n"
    "a(2) EY1\n"
    "bee B IY1\n"
    "cat K AE1 T\n"
    "dog D AO1 G\n";

std::string joined(const std::vector<std::string>& tokens) {
  std::string s;
  for (const auto& t : tokens) s += (s.empty() ? "" : " ") + t;
  return s;
}

std::string error_of(const std::string& text) {
  try {
    parse_cmudict(text, "x.dict");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(G2p, RowsAreLettersAndPhonesWithoutStressAlternatesIncluded) {
  const auto entries = parse_cmudict(kDict, "fixture");
  ASSERT_EQ(entries.size(), 12u);
  const std::vector<std::array<std::string, 3>> expected = {
      {"abandon", "a b a n d o n", "AH B AE N D AH N"},
      {"either", "e i t h e r", "IY DH ER"},
      {"either", "e i t h e r", "AY DH ER"},
      {"read", "r e a d", "R IY D"},
      {"read", "r e a d", "R EH D"},
      {"zoo", "z o o", "Z UW"},
      {"hello", "h e l l o", "HH AH L OW"},
      {"a", "a", "AH"},
      {"a", "a", "EY"},
      {"bee", "b e e", "B IY"},
      {"cat", "c a t", "K AE T"},
      {"dog", "d o g", "D AO G"},
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(entries[i].word, expected[i][0]) << i;
    EXPECT_EQ(joined(entries[i].pair.source), expected[i][1]) << i;
    EXPECT_EQ(joined(entries[i].pair.target), expected[i][2]) << i;
  }
}

TEST(G2p, NonAsciiLettersAreOneGraphemeEach) {
  const auto entries = parse_cmudict("café K AE F EY1\n", "fixture");
  EXPECT_EQ(joined(entries[0].pair.source), "c a f é");
}

TEST(G2p, SplitKeepsEveryPronunciationOfAWordTogether) {
  const auto entries = parse_cmudict(kDict, "fixture");
  G2pSplitOptions o;
  o.valid_fraction = 0.2;
  o.test_fraction = 0.2;
  const G2pSplit split = split_by_word(entries, o);
  // 9 distinct words: round(1.8) = 2 to test, 2 to valid, 5 to train.
  EXPECT_EQ(split.test_words, 2);
  EXPECT_EQ(split.valid_words, 2);
  EXPECT_EQ(split.train_words, 5);
  EXPECT_EQ(split.train.size() + split.valid.size() + split.test.size(), entries.size());
  std::map<std::string, std::set<int>> parts_of_word;
  const std::vector<const std::vector<Pair>*> parts = {&split.train, &split.valid, &split.test};
  std::map<int, std::set<std::string>> words_of_part;
  for (int p = 0; p < 3; ++p) {
    for (const Pair& pair : *parts[static_cast<size_t>(p)]) {
      parts_of_word[joined(pair.source)].insert(p);
      words_of_part[p].insert(joined(pair.source));
    }
  }
  EXPECT_EQ(parts_of_word.size(), 9u);
  for (const auto& [word, in] : parts_of_word) EXPECT_EQ(in.size(), 1u) << word;
  EXPECT_EQ(words_of_part[1].size(), 2u);
  EXPECT_EQ(words_of_part[2].size(), 2u);
  // Rows keep dictionary order within a split: alternates follow their first pronunciation.
  for (const auto* part : parts) {
    for (size_t i = 1; i < part->size(); ++i) {
      if ((*part)[i].source == (*part)[i - 1].source) continue;
      for (size_t j = i + 1; j < part->size(); ++j)
        EXPECT_NE((*part)[j].source, (*part)[i - 1].source);
    }
  }
}

TEST(G2p, SameSeedSameSplitOtherSeedsDiffer) {
  const auto entries = parse_cmudict(kDict, "fixture");
  G2pSplitOptions o;
  o.valid_fraction = 0.2;
  o.test_fraction = 0.2;
  const G2pSplit a = split_by_word(entries, o), b = split_by_word(entries, o);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.valid, b.valid);
  EXPECT_EQ(a.test, b.test);
  int differing = 0;
  for (uint64_t seed = 2; seed <= 6; ++seed) {
    o.seed = seed;
    differing += split_by_word(entries, o).test != a.test;
  }
  EXPECT_GT(differing, 0);
}

TEST(G2p, MalformedLinesNameFileAndLine) {
  EXPECT_EQ(error_of("cat K AE T\ndog\n"), "x.dict:2: 'dog' has no phones");
  EXPECT_EQ(error_of("cat K AE T\n\ndog(x) D AO G\n"),
            "x.dict:3: 'dog(x)': expected WORD or WORD(N)");
  EXPECT_EQ(error_of("(2) D AO G\n"), "x.dict:1: '(2)': expected WORD or WORD(N)");
  EXPECT_EQ(error_of("cat k ae1 t\n"),
            "x.dict:1: 'k' is not a phone (upper-case letters, then an optional stress digit)");
  EXPECT_EQ(error_of("cat K A1E T\n"),
            "x.dict:1: 'A1E' is not a phone (upper-case letters, then an optional stress digit)");
  EXPECT_EQ(error_of("ca\xff K AE\n"), "x.dict:1: invalid UTF-8 in the word");
  EXPECT_EQ(error_of(";;; only comments\n\n"), "x.dict: no pronunciations in the dictionary");
  EXPECT_THROW(read_cmudict("/nonexistent/cmudict.dict"), Error);
}

TEST(G2p, BadFractionsAreErrors) {
  const auto entries = parse_cmudict(kDict, "fixture");
  G2pSplitOptions o;
  o.valid_fraction = 0.5;
  o.test_fraction = 0.5;
  EXPECT_THROW(split_by_word(entries, o), Error);
  o.valid_fraction = -0.1;
  o.test_fraction = 0.1;
  EXPECT_THROW(split_by_word(entries, o), Error);
}

TEST(CliGenG2p, WritesTrainValidTestFromTheDictionary) {
  test::TempDir dir;
  const std::string dict = dir.file("mini.dict"), out = dir.file("g2p");
  test::write_text(dict, kDict);
  const auto r = test::run_command(test::cli() + " gen g2p --dict " + test::shell_quote(dict) +
                                   " --valid-fraction 0.2 --test-fraction 0.2 --seed 3 --out-dir " +
                                   test::shell_quote(out));
  ASSERT_EQ(r.status, 0) << r.err;
  G2pSplitOptions o;
  o.valid_fraction = 0.2;
  o.test_fraction = 0.2;
  o.seed = 3;
  const G2pSplit split = split_by_word(parse_cmudict(kDict, dict), o);
  EXPECT_EQ(r.out, "wrote " + std::to_string(split.train.size()) +
                       " pronunciations of 5 words to " + out + "/train.csv\nwrote " +
                       std::to_string(split.valid.size()) + " pronunciations of 2 words to " + out +
                       "/valid.csv\nwrote " + std::to_string(split.test.size()) +
                       " pronunciations of 2 words to " + out + "/test.csv\n");
  EXPECT_EQ(test::read_text(out + "/test.csv"), format_pairs_csv(split.test));
  EXPECT_EQ(test::read_text(out + "/train.csv"), format_pairs_csv(split.train));
  const Corpus valid = read_pairs_csv(out + "/valid.csv");
  EXPECT_EQ(valid.size(), split.valid.size());
}

TEST(CliGenG2p, ErrorsExitTwoWithFileAndLine) {
  test::TempDir dir;
  const std::string dict = dir.file("bad.dict");
  test::write_text(dict, "cat K AE T\ndog\n");
  const auto r = test::run_command(test::cli() + " gen g2p --dict " + test::shell_quote(dict) +
                                   " --out-dir " + test::shell_quote(dir.file("o")));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(dict + ":2: 'dog' has no phones"), std::string::npos) << r.err;
  const auto no_dict =
      test::run_command(test::cli() + " gen g2p --out-dir " + test::shell_quote(dir.file("o")));
  EXPECT_EQ(no_dict.status, 2);
  EXPECT_NE(no_dict.err.find("--dict"), std::string::npos) << no_dict.err;
}

TEST(ScriptG2p, DataStageWritesTheSeedOneSplitAndStops) {
  test::TempDir dir;
  const std::string dict = dir.file("words.dict"), out = dir.file("run");
  std::string text;  // 40 words "ba", "bb", ... ("b" + two letters), some with an alternate
  for (int i = 0; i < 40; ++i) {
    const std::string word =
        std::string("b") + static_cast<char>('a' + i / 26) + static_cast<char>('a' + i % 26);
    text += word + " B IY1 EY1\n";
    if (i % 7 == 0) text += word + "(2) B AY1\n";
  }
  test::write_text(dict, text);
  const auto r =
      test::run_command("S2S=" + test::cli() + " DICT=" + test::shell_quote(dict) +
                        " DATA_ONLY=1 " S2S_SOURCE_DIR "/scripts/g2p " + test::shell_quote(out));
  ASSERT_EQ(r.status, 0) << r.err;
  const G2pSplit split = split_by_word(parse_cmudict(text, dict), {});  // 5% + 5%, seed 1
  EXPECT_EQ(split.test_words, 2);
  EXPECT_EQ(test::read_text(out + "/data/train.csv"), format_pairs_csv(split.train));
  EXPECT_EQ(test::read_text(out + "/data/valid.csv"), format_pairs_csv(split.valid));
  EXPECT_EQ(test::read_text(out + "/data/test.csv"), format_pairs_csv(split.test));
  EXPECT_FALSE(std::filesystem::exists(out + "/model"));  // DATA_ONLY: no training
}

}  // namespace
}  // namespace s2s
