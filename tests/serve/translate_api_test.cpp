// The translate request's parser and the response's shape, without a server: every refusal
// is a RequestError with its status and a message naming the field and the limit's flag.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "serve/translate_api.h"

namespace {

using s2s::serve::parse_translate_request;
using s2s::serve::RequestError;
using s2s::serve::RequestLimits;

RequestLimits limits() {
  RequestLimits l;
  l.max_inputs = 3;
  l.max_input_tokens = 4;
  l.max_n_best = 2;
  l.default_timeout_ms = 700;
  l.max_timeout_ms = 5000;
  return l;
}

// The status and message of the refusal of `body`; {0, ""} when it is accepted.
std::pair<int, std::string> refusal(const std::string& body) {
  try {
    parse_translate_request(body, limits());
  } catch (const RequestError& e) {
    return {e.status(), e.what()};
  }
  return {0, ""};
}

TEST(TranslateRequest, ReadsInputsAsTokensAndFillsDefaults) {
  const auto r = parse_translate_request(R"({"inputs": ["a  b\tc", " d "]})", limits());
  ASSERT_EQ(r.sources.size(), 2u);
  EXPECT_EQ(r.sources[0], (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r.sources[1], (std::vector<std::string>{"d"}));
  EXPECT_EQ(r.n_best, 1);
  EXPECT_FALSE(r.return_scores);
  EXPECT_EQ(r.timeout_ms, 700);
  const auto all = parse_translate_request(
      R"({"inputs": ["a"], "n_best": 2, "return_scores": true, "timeout_ms": 5000})", limits());
  EXPECT_EQ(all.n_best, 2);
  EXPECT_TRUE(all.return_scores);
  EXPECT_EQ(all.timeout_ms, 5000);
}

TEST(TranslateRequest, RefusesEachBadInputWithItsReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"inputs": ["a"])", "malformed JSON at byte 17"},
      {"", "malformed JSON at byte 1"},
      // A number past double's range: nlohmann throws out_of_range, not parse_error (found by
      // the serve_request fuzz target; the server answered 500 before).
      {R"({"inputs": ["a"], "n_best": 1e999})", "malformed JSON: a number out of range"},
      {R"(["a"])", "the body must be a JSON object with \"inputs\""},
      {R"({})", "missing \"inputs\": an array of strings"},
      {R"({"inputs": "a b"})", "\"inputs\" must be an array of strings"},
      {R"({"inputs": []})", "\"inputs\" is empty"},
      {R"({"inputs": ["a", 3]})", "inputs[1] must be a string"},
      {R"({"inputs": ["a", " \t"]})", "inputs[1] has no tokens"},
      {R"({"inputs": ["a", "b", "c", "d"]})", "4 inputs; at most 3 per request (--max-inputs)"},
      {R"({"inputs": ["a b c d e"]})", "inputs[0] has 5 tokens; at most 4 (--max-input-tokens)"},
      {R"({"inputs": ["a"], "input": ["b"]})",
       "unknown field \"input\" (known: inputs, n_best, return_scores, timeout_ms)"},
      {R"({"inputs": ["a"], "n_best": "2"})", "\"n_best\" must be an integer"},
      {R"({"inputs": ["a"], "n_best": 1.5})", "\"n_best\" must be an integer"},
      {R"({"inputs": ["a"], "n_best": 3})", "\"n_best\" must be in [1, 2] (up to --beam), got 3"},
      {R"({"inputs": ["a"], "n_best": 0})", "\"n_best\" must be in [1, 2] (up to --beam), got 0"},
      {R"({"inputs": ["a"], "n_best": 18446744073709551615})",
       "\"n_best\" must be in [1, 2] (up to --beam), got 18446744073709551615"},
      {R"({"inputs": ["a"], "timeout_ms": 0})", "\"timeout_ms\" must be in [1, 5000], got 0"},
      {R"({"inputs": ["a"], "return_scores": 1})", "\"return_scores\" must be true or false"},
  };
  for (const auto& [body, message] : cases) {
    const auto [status, got] = refusal(body);
    EXPECT_EQ(status, 400) << body;
    EXPECT_EQ(got, message) << body;
  }
}

TEST(TranslateResponse, ScoresAndHypothesesOnlyWhenAsked) {
  using nlohmann::json;
  s2s::serve::TranslateRequest request;
  request.sources = {{"a"}, {"b"}};
  const std::vector<std::vector<s2s::Prediction>> results = {
      {{{"x", "y"}, -0.5, -0.25, true}, {{"y"}, -1.0, -1.0, false}},
      {{{"z"}, -2.0, -2.0, true}, {{}, -3.0, -3.0, true}}};
  json plain = json::parse(s2s::serve::translate_response("m", request, results, {0, 2}));
  EXPECT_EQ(plain, json::parse(R"({"model": "m", "outputs": ["x y", "z"],
                                   "unknown_tokens": [0, 2]})"));
  request.return_scores = true;
  request.n_best = 2;
  json full = json::parse(s2s::serve::translate_response("m", request, results, {0, 2}));
  EXPECT_EQ(full["scores"], json::parse("[-0.25, -2.0]"));
  EXPECT_EQ(full["hypotheses"][0][1],
            json::parse(R"({"output": "y", "score": -1.0, "log_prob": -1.0, "ended": false})"));
  EXPECT_EQ(full["hypotheses"][1][1]["output"], "");
}

TEST(ErrorBody, IsJsonEvenForBytesThatAreNotUtf8) {
  const auto body = nlohmann::json::parse(s2s::serve::error_body("bad \xff byte"));
  EXPECT_EQ(body["error"], "bad \xEF\xBF\xBD byte");
}

}  // namespace
