// Vocabulary: fixed special ids, first-seen order, unknown tokens, JSON round trips.
#include <gtest/gtest.h>

#include "s2s/csv.h"
#include "s2s/error.h"
#include "s2s/vocab.h"
#include "test_util.h"

namespace s2s {
namespace {

TEST(Vocab, SpecialTokensHaveFixedIds) {
  const Vocab v;
  EXPECT_EQ(v.size(), 4);
  EXPECT_EQ(v.id("<pad>"), 0);
  EXPECT_EQ(v.id("<sos>"), 1);
  EXPECT_EQ(v.id("<eos>"), 2);
  EXPECT_EQ(v.id("<unk>"), 3);
  EXPECT_EQ(kPadId, 0);
  EXPECT_EQ(kSosId, 1);
  EXPECT_EQ(kEosId, 2);
  EXPECT_EQ(kUnkId, 3);
}

TEST(Vocab, FromCorpusUsesFirstSeenOrderSourceBeforeTarget) {
  const Corpus corpus = parse_pairs_csv("source,target\n5 3 5,9 3\n7 <unk>,1 5\n", "t.csv");
  const Vocab v = Vocab::from_corpus(corpus);
  EXPECT_EQ(v.tokens(), (std::vector<std::string>{"<pad>", "<sos>", "<eos>", "<unk>", "5", "3", "9",
                                                  "7", "1"}));
  EXPECT_EQ(v.id("9"), 6);
  EXPECT_EQ(v.id("<unk>"), kUnkId);  // a data token spelled like a special maps to it
  EXPECT_EQ(v.token(8), "1");
}

TEST(Vocab, UnknownTokensMapToUnkAndAreCounted) {
  const Vocab v = Vocab::from_tokens({"a", "b"});
  EXPECT_EQ(v.id("zzz"), kUnkId);
  EXPECT_FALSE(v.contains("zzz"));
  EXPECT_TRUE(v.contains("a"));
  int64_t unknown = 0;
  EXPECT_EQ(v.encode({"a", "x", "b", "y"}, &unknown), (std::vector<int64_t>{4, kUnkId, 5, kUnkId}));
  EXPECT_EQ(unknown, 2);
  EXPECT_EQ(v.decode({kSosId, 4, 5, kEosId, 4}), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(v.decode({4, kPadId, 5}), (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(v.token(6), Error);
  EXPECT_THROW(v.token(-1), Error);
}

TEST(Vocab, JsonRoundTripAndFile) {
  const Vocab v = Vocab::from_tokens({"x", "é", "\"q\"", "世界"});
  const std::string json = v.to_json();
  EXPECT_EQ(json,
            "{\"format\":\"s2s-vocab\",\"tokens\":[\"<pad>\",\"<sos>\",\"<eos>\",\"<unk>\",\"x\","
            "\"é\",\"\\\"q\\\"\",\"世界\"],\"version\":1}");
  EXPECT_EQ(Vocab::from_json(json), v);
  test::TempDir dir;
  v.save(dir.file("vocab.json"));
  EXPECT_EQ(Vocab::load(dir.file("vocab.json")), v);
}

std::string json_error(const std::string& json) {
  try {
    Vocab::from_json(json, "m/vocab.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Vocab, BadJsonIsRejectedWithTheSource) {
  EXPECT_EQ(json_error("{\"format\":\"other\"}"),
            "m/vocab.json: not an s2s vocabulary (expected \"format\": \"s2s-vocab\")");
  EXPECT_EQ(json_error("{\"format\":\"s2s-vocab\",\"version\":2,\"tokens\":[]}"),
            "m/vocab.json: unsupported vocabulary version (expected 1)");
  EXPECT_EQ(json_error("{\"format\":\"s2s-vocab\",\"version\":1,\"tokens\":[\"<pad>\",\"<eos>\"]}"),
            "m/vocab.json: token 1 must be '<sos>'");
  EXPECT_EQ(json_error("{\"format\":\"s2s-vocab\",\"version\":1,\"tokens\":[\"<pad>\",\"<sos>\","
                       "\"<eos>\",\"<unk>\",\"a\",\"a\"]}"),
            "m/vocab.json: token 'a' appears twice");
  EXPECT_EQ(json_error("{\"format\":\"s2s-vocab\",\"version\":1,\"tokens\":[1]}"),
            "m/vocab.json: every token must be a string");
  EXPECT_EQ(json_error("[1,2").rfind("m/vocab.json: not valid JSON: ", 0), 0u);
  try {
    Vocab::load("/nonexistent/vocab.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "/nonexistent/vocab.json: cannot open: No such file or directory");
  }
}

// Found by fuzz/vocab_fuzz.cpp: a "format" that is not a string escaped as nlohmann's
// type_error ("type must be string, but is array") instead of the file's one-line error.
TEST(Vocab, FormatOfTheWrongTypeIsTheSameOneLineError) {
  for (const char* format : {"[]", "1", "null", "{}", "true"}) {
    SCOPED_TRACE(format);
    EXPECT_EQ(json_error(std::string("{\"format\":") + format + ",\"version\":1}"),
              "m/vocab.json: not an s2s vocabulary (expected \"format\": \"s2s-vocab\")");
  }
}

TEST(Vocab, UnknownDescriptionIsOneLine) {
  UnknownTokens u;
  EXPECT_EQ(u.describe(), "");
  u.tokens = 12;
  u.rows = 5;
  u.examples = {"x", "y"};
  EXPECT_EQ(u.describe(),
            "12 tokens in 5 rows are not in the vocabulary and map to <unk> (e.g. x, y)");
}

}  // namespace
}  // namespace s2s
