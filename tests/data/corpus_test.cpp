// Corpus: interning in first-seen order, flat storage, copies that stay valid.
#include <gtest/gtest.h>

#include <memory>

#include "s2s/corpus.h"

namespace s2s {
namespace {

TEST(Corpus, InternsInFirstSeenOrderSourceBeforeTarget) {
  const Corpus c = make_corpus({{{"b", "long", "b"}, {"a"}}, {{"a", "ü"}, {"long", "z"}}});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c.num_tokens(), 5u);
  EXPECT_EQ(c.token(0), "b");
  EXPECT_EQ(c.token(1), "long");
  EXPECT_EQ(c.token(2), "a");
  EXPECT_EQ(c.token(3), "ü");
  EXPECT_EQ(c.token(4), "z");
  EXPECT_EQ(std::vector<int32_t>(c.source(0).begin(), c.source(0).end()),
            (std::vector<int32_t>{0, 1, 0}));
  EXPECT_EQ(std::vector<int32_t>(c.target(1).begin(), c.target(1).end()),
            (std::vector<int32_t>{1, 4}));
  EXPECT_EQ(c.find("long"), 1);
  EXPECT_EQ(c.find("nope"), -1);
  EXPECT_EQ(c.find("q"), -1);
  EXPECT_EQ(c.total_tokens(), 8u);
  EXPECT_EQ(c.pair(1), (Pair{{"a", "ü"}, {"long", "z"}}));
}

TEST(Corpus, CopiesAndMovesOutliveTheOriginal) {
  auto original = std::make_unique<Corpus>(make_corpus({{{"alpha", "b"}, {"gamma"}}}));
  Corpus copy(*original);
  Corpus assigned;
  assigned = *original;
  Corpus moved(std::move(*original));
  original.reset();
  for (Corpus* c : {&copy, &assigned, &moved}) {
    EXPECT_EQ(c->find("alpha"), 0);
    EXPECT_EQ(c->find("gamma"), 2);
    EXPECT_EQ(c->intern("gamma"), 2);
    EXPECT_EQ(c->intern("delta"), 3);
    EXPECT_EQ(c->pair(0), (Pair{{"alpha", "b"}, {"gamma"}}));
  }
}

TEST(Corpus, Stats) {
  const CorpusStats s =
      corpus_stats(make_corpus({{{"1", "2"}, {"3"}}, {{"1", "2", "3", "4"}, {"5", "6"}}}));
  EXPECT_EQ(s.rows, 2);
  EXPECT_EQ(s.distinct_tokens, 6);
  EXPECT_EQ(s.source.min, 2);
  EXPECT_EQ(s.source.max, 4);
  EXPECT_DOUBLE_EQ(s.source.mean, 3.0);
  EXPECT_EQ(s.target.min, 1);
  EXPECT_EQ(s.target.max, 2);
  EXPECT_DOUBLE_EQ(s.target.mean, 1.5);
}

TEST(Tokens, SplitAndJoinLikeDataFiles) {
  EXPECT_EQ(split_tokens("  0 0\t5\r\n3  é "), (std::vector<std::string>{"0", "0", "5", "3", "é"}));
  EXPECT_EQ(split_tokens(" \t "), std::vector<std::string>{});
  EXPECT_EQ(join_tokens({"5", "3", "<eos>"}), "5 3 <eos>");
  EXPECT_EQ(join_tokens({}), "");
}

}  // namespace
}  // namespace s2s
