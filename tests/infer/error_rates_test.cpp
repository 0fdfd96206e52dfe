// Edit distance and error rates on cases worked out by hand.
#include <gtest/gtest.h>

#include <sstream>

#include "s2s/edit_distance.h"
#include "s2s/error.h"
#include "s2s/error_rates.h"

namespace {

std::vector<std::string> tokens(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

int64_t distance(const std::string& a, const std::string& b) {
  return s2s::edit_distance(tokens(a), tokens(b));
}

TEST(EditDistance, HandComputedCases) {
  EXPECT_EQ(distance("", ""), 0);
  EXPECT_EQ(distance("a b c", "a b c"), 0);
  EXPECT_EQ(distance("", "a b c"), 3);                       // three insertions
  EXPECT_EQ(distance("a b c", ""), 3);                       // three deletions
  EXPECT_EQ(distance("a b c", "a x c"), 1);                  // one substitution
  EXPECT_EQ(distance("a b c", "a c"), 1);                    // one deletion
  EXPECT_EQ(distance("a c", "a b c"), 1);                    // one insertion
  EXPECT_EQ(distance("a b", "b a"), 2);                      // no transpositions in Levenshtein
  EXPECT_EQ(distance("k i t t e n", "s i t t i n g"), 3);    // the classic: k->s, e->i, +g
  EXPECT_EQ(distance("s a t u r d a y", "s u n d a y"), 3);  // -a, -t, r->n
  // Tokens compare whole, not by characters: "HH" vs "H" is one substitution.
  EXPECT_EQ(distance("HH AH L OW", "H AH L OW"), 1);
}

TEST(EditDistance, IsSymmetric) {
  EXPECT_EQ(distance("x y z w", "y z q"), distance("y z q", "x y z w"));
  EXPECT_EQ(distance("x y z w", "y z q"), 2);  // -x, w->q
}

TEST(ErrorRates, OneReferencePerSentence) {
  s2s::ErrorRates r;
  r.add(tokens("HH AH L OW"), {tokens("HH AH L OW")});  // right: 0 of 4
  r.add(tokens("W ER L"), {tokens("W ER L D")});        // 1 deletion of 4
  r.add(tokens("K AE T S"), {tokens("K AE T")});        // 1 insertion of 3
  EXPECT_EQ(r.sentences, 3);
  EXPECT_EQ(r.wrong_sentences, 2);
  EXPECT_EQ(r.token_errors, 2);
  EXPECT_EQ(r.reference_tokens, 11);
  EXPECT_DOUBLE_EQ(r.token_error_rate(), 2.0 / 11.0);
  EXPECT_DOUBLE_EQ(r.sentence_error_rate(), 2.0 / 3.0);
}

TEST(ErrorRates, ASentenceIsRightIfItMatchesAnyReferenceAndErrorsUseTheClosest) {
  s2s::ErrorRates r;
  // "either": two pronunciations; the hypothesis equals the second.
  r.add(tokens("AY DH ER"), {tokens("IY DH ER"), tokens("AY DH ER")});
  EXPECT_EQ(r.wrong_sentences, 0);
  EXPECT_EQ(r.token_errors, 0);
  EXPECT_EQ(r.reference_tokens, 3);
  // Closest reference: 1 edit from "a b c d" (4 tokens), 2 from "a x" (2 tokens).
  r.add(tokens("a b c"), {tokens("a x"), tokens("a b c d")});
  EXPECT_EQ(r.wrong_sentences, 1);
  EXPECT_EQ(r.token_errors, 1);
  EXPECT_EQ(r.reference_tokens, 7);
  // Equally close (1 edit each): the longer reference counts, whatever the order.
  s2s::ErrorRates a, b;
  a.add(tokens("p q"), {tokens("p"), tokens("p q r")});
  b.add(tokens("p q"), {tokens("p q r"), tokens("p")});
  EXPECT_EQ(a.token_errors, 1);
  EXPECT_EQ(a.reference_tokens, 3);
  EXPECT_EQ(b.reference_tokens, 3);
}

TEST(ErrorRates, EmptyTotalsAreZeroAndASentenceNeedsAReference) {
  s2s::ErrorRates r;
  EXPECT_EQ(r.token_error_rate(), 0.0);
  EXPECT_EQ(r.sentence_error_rate(), 0.0);
  EXPECT_THROW(r.add(tokens("a"), {}), s2s::Error);
  r.add(tokens("a b"), {tokens("")});  // an empty reference: 2 insertions over 0 tokens
  EXPECT_EQ(r.token_errors, 2);
  EXPECT_EQ(r.token_error_rate(), 0.0);
  EXPECT_EQ(r.sentence_error_rate(), 1.0);
}

}  // namespace
