// Predictor, evaluate_file (with EvalOptions) and export/import as library calls, on a tiny
// briefly trained model saved as a checkpoint by the test.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "data/test_util.h"  // TempDir
#include "infer/tiny_model.h"
#include "s2s/beam_search.h"
#include "s2s/checkpoint.h"
#include "s2s/csv.h"
#include "s2s/decode.h"
#include "s2s/error.h"
#include "s2s/interop.h"

namespace {

using Tokens = std::vector<std::string>;

using s2s::test::TempDir;

// A briefly trained 2-layer GRU over the tokens a..e, saved as a checkpoint.
std::string save_random_model(const TempDir& dir, uint64_t seed = 21) {
  const s2s::Vocab vocab = s2s::Vocab::from_tokens({"a", "b", "c", "d", "e"});
  s2s::Seq2Seq model = s2s::test::trained_tiny_model(vocab.size(), s2s::RnnImpl::OneDNN, seed);
  s2s::CheckpointMeta meta;
  meta.config_json = R"({"cell": "gru", "hidden": 16, "layers": 2, "dropout": 0})";
  const std::string path = dir.file("model.pt");
  s2s::save_checkpoint(path, model, vocab, meta);
  return path;
}

std::vector<Tokens> some_sources() {
  return {{"a", "b", "c"}, {"e"}, {"d", "d", "a", "b", "c", "e"}, {"b", "a"}, {"c", "c", "c", "c"}};
}

TEST(Predictor, NBestIsTheBeamSearchOfTheCheckpointInTokens) {
  TempDir dir;
  const std::string path = save_random_model(dir);
  s2s::SearchOptions search;
  search.beam = 3;
  search.n_best = 3;
  search.length_penalty = s2s::LengthPenalty::parse("avg");
  s2s::Predictor predictor(path);
  const auto got = predictor.predict_n_best(some_sources(), search);
  s2s::LoadedCheckpoint ck = s2s::load_checkpoint(path);
  ASSERT_EQ(got.size(), some_sources().size());
  for (size_t i = 0; i < got.size(); ++i) {
    std::vector<int64_t> ids = ck.vocab.encode(some_sources()[i]);
    const auto n = static_cast<int64_t>(ids.size());
    ids.push_back(s2s::kEosId);
    const auto expected = s2s::beam_search(ck.model, at::tensor(ids, at::kLong).unsqueeze(1),
                                           at::tensor({n + 1}, at::kLong), search)[0];
    ASSERT_EQ(got[i].size(), expected.size());
    for (size_t k = 0; k < expected.size(); ++k) {
      EXPECT_EQ(got[i][k].tokens, ck.vocab.decode(expected[k].tokens));
      EXPECT_NEAR(got[i][k].log_prob, expected[k].log_prob, 1e-5);
      EXPECT_NEAR(got[i][k].score, expected[k].score, 1e-5);
      EXPECT_EQ(got[i][k].ended, expected[k].ended);
    }
  }
}

TEST(Predictor, ResultsDoNotDependOnTheBatch) {
  TempDir dir;
  s2s::Predictor predictor(save_random_model(dir));
  s2s::SearchOptions search;
  search.beam = 4;
  search.n_best = 2;
  const auto one_by_one = predictor.predict_n_best(some_sources(), search, 1);
  const auto together = predictor.predict_n_best(some_sources(), search, 512);
  const auto pairs = predictor.predict_n_best(some_sources(), search, 2);
  for (size_t i = 0; i < together.size(); ++i) {
    for (size_t k = 0; k < together[i].size(); ++k) {
      EXPECT_EQ(one_by_one[i][k].tokens, together[i][k].tokens);
      EXPECT_EQ(pairs[i][k].tokens, together[i][k].tokens);
      EXPECT_NEAR(one_by_one[i][k].score, together[i][k].score, 1e-5);
    }
  }
  // predict() is the best hypothesis' tokens.
  const auto best = predictor.predict(some_sources(), search);
  for (size_t i = 0; i < best.size(); ++i) EXPECT_EQ(best[i], together[i][0].tokens);
}

TEST(Predictor, UnknownTokensAreCountedAndAllUnknownIsAnError) {
  TempDir dir;
  s2s::Predictor predictor(save_random_model(dir));
  predictor.predict({{"a", "zz", "b", "yy"}});
  EXPECT_EQ(predictor.unknown_tokens(), 2);
  try {
    predictor.predict({{"a"}, {"zz", "yy"}});
    FAIL() << "expected an error";
  } catch (const s2s::Error& e) {
    EXPECT_EQ(std::string(e.what()), "input 2: none of its tokens are in the model's vocabulary");
  }
  s2s::SearchOptions bad;
  bad.beam = 2;
  bad.n_best = 5;
  EXPECT_THROW(predictor.predict_n_best({{"a"}}, bad), s2s::Error);
  EXPECT_THROW(predictor.predict({{"a"}}, {}, 0), s2s::Error);
}

// Sources whose predictions (beam `search`) are non-empty, and those predictions.
std::pair<std::vector<Tokens>, std::vector<Tokens>> predicted_pairs(
    s2s::Predictor& predictor, const s2s::SearchOptions& search) {
  std::vector<Tokens> sources, targets;
  const std::vector<Tokens> candidates = {{"a", "b"}, {"c"},      {"d", "e", "a"}, {"e", "e"},
                                          {"b"},      {"a", "c"}, {"c", "d", "b"}, {"d"}};
  const auto predicted = predictor.predict(candidates, search);
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (predicted[i].empty()) continue;
    sources.push_back(candidates[i]);
    targets.push_back(predicted[i]);
  }
  return {sources, targets};
}

TEST(EvaluateFile, ErrorRatesCountDistinctSourcesAgainstTheirClosestReference) {
  TempDir dir;
  const std::string model = save_random_model(dir);
  s2s::EvalOptions options;
  options.search.beam = 3;
  options.search.length_penalty = s2s::LengthPenalty::parse("wu:1");
  s2s::Predictor predictor(model);
  auto [sources, targets] = predicted_pairs(predictor, options.search);
  ASSERT_GE(sources.size(), 2u) << "the random model predicts <eos> first too often";
  // X: its prediction and a longer variant (two rows, one sentence, right, 0 errors over the
  // prediction's length); Y: its prediction with a token appended (1 error over |P| + 1).
  const Tokens& x = sources[0];
  const Tokens& y = sources[1];
  Tokens x_longer = targets[0], y_wrong = targets[1];
  x_longer.push_back("a");
  y_wrong.push_back("b");
  const std::string data = dir.file("data.csv");
  s2s::write_pairs_csv(data, {{x, targets[0]}, {y, y_wrong}, {x, x_longer}});
  const s2s::EvalReport r = s2s::evaluate_file(model, data, options);
  EXPECT_EQ(r.rows, 3);
  EXPECT_EQ(r.errors.sentences, 2);
  EXPECT_EQ(r.errors.wrong_sentences, 1);
  EXPECT_EQ(r.errors.token_errors, 1);
  EXPECT_EQ(r.errors.reference_tokens, static_cast<int64_t>(targets[0].size() + y_wrong.size()));
  EXPECT_DOUBLE_EQ(r.errors.sentence_error_rate(), 0.5);
  // The same file, batch 1: the same numbers.
  options.batch = 1;
  const s2s::EvalReport one = s2s::evaluate_file(model, data, options);
  EXPECT_EQ(one.errors.token_errors, r.errors.token_errors);
  EXPECT_EQ(one.errors.wrong_sentences, r.errors.wrong_sentences);
}

TEST(EvaluateFile, BadOptionsAndUnknownDataAreErrors) {
  TempDir dir;
  const std::string model = save_random_model(dir);
  const std::string data = dir.file("data.csv");
  s2s::write_pairs_csv(data, {{{"a"}, {"b"}}});
  s2s::EvalOptions options;
  options.batch = 0;
  EXPECT_THROW(s2s::evaluate_file(model, data, options), s2s::Error);
  options.batch = 8;
  options.search.beam = 0;
  EXPECT_THROW(s2s::evaluate_file(model, data, options), s2s::Error);
  const std::string foreign = dir.file("foreign.csv");
  s2s::write_pairs_csv(foreign, {{{"x"}, {"y"}}});
  EXPECT_THROW(s2s::evaluate_file(model, foreign, {}), s2s::Error);
}

TEST(Interop, ExportThenImportGivesTheSameWeightsAndPredictions) {
  TempDir dir;
  const std::string model = save_random_model(dir);
  const std::string state_dict = dir.file("state_dict.pt"), vocab = dir.file("vocab.json");
  const std::string back = dir.file("back.pt");
  s2s::export_state_dict(model, state_dict, vocab);
  s2s::import_state_dict(state_dict, vocab, back);
  s2s::LoadedCheckpoint a = s2s::load_checkpoint(model), b = s2s::load_checkpoint(back);
  EXPECT_EQ(a.vocab, b.vocab);
  const auto pa = a.model->named_parameters(), pb = b.model->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) EXPECT_TRUE(at::equal(p.value(), pb[p.key()])) << p.key();
  s2s::SearchOptions search;
  search.beam = 2;
  EXPECT_EQ(s2s::Predictor(model).predict(some_sources(), search),
            s2s::Predictor(back).predict(some_sources(), search));
}

}  // namespace
