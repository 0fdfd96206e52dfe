// `s2s infer` and `s2s eval` with the search flags, as processes: their printouts carry what the
// library computes (Predictor, evaluate_file), and bad flags are one-line errors, exit 2.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "infer/tiny_model.h"
#include "s2s/checkpoint.h"
#include "s2s/csv.h"
#include "s2s/decode.h"
#include "support/run_command.h"

namespace {

class CliSearch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (std::filesystem::temp_directory_path() / ("s2s_infer_cli_" + std::to_string(getpid())))
               .string();
    std::filesystem::create_directories(dir_);
    const s2s::Vocab vocab = s2s::Vocab::from_tokens({"a", "b", "c", "d", "e"});
    s2s::Seq2Seq model = s2s::test::trained_tiny_model(vocab.size());
    s2s::CheckpointMeta meta;
    meta.config_json = R"({"cell": "gru", "hidden": 16, "layers": 2, "dropout": 0})";
    s2s::save_checkpoint(model_path(), model, vocab, meta);
    s2s::Seq2Seq other = s2s::test::trained_tiny_model(vocab.size(), s2s::RnnImpl::OneDNN, 9);
    s2s::save_checkpoint(other_model_path(), other, vocab, meta);
    const s2s::Vocab foreign = s2s::Vocab::from_tokens({"a", "b", "c", "d", "x"});
    s2s::Seq2Seq stranger = s2s::test::trained_tiny_model(foreign.size());
    s2s::save_checkpoint(foreign_model_path(), stranger, foreign, meta);
    // "a b" twice with different targets: one sentence, two references.
    s2s::write_pairs_csv(data_path(), {{{"a", "b"}, {"b", "a"}},
                                       {{"c", "d", "e"}, {"e", "d", "c"}},
                                       {{"a", "b"}, {"a", "b"}},
                                       {{"e"}, {"e"}}});
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
  static std::string model_path() { return dir_ + "/model.pt"; }
  static std::string data_path() { return dir_ + "/data.csv"; }
  static std::string other_model_path() { return dir_ + "/other.pt"; }
  static std::string foreign_model_path() { return dir_ + "/foreign.pt"; }
  static std::string dir_;
};
std::string CliSearch::dir_;

TEST_F(CliSearch, InferPrintsTheNBestWithTheirScores) {
  const auto r = s2s::test::run_cli("infer --model " + model_path() +
                                    " --input 'a b c' --beam 4 --n-best 3 --length-penalty avg");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  s2s::SearchOptions search;
  search.beam = 4;
  search.n_best = 3;
  search.length_penalty = s2s::LengthPenalty::parse("avg");
  s2s::Predictor predictor(model_path());
  const auto expected = predictor.predict_n_best({{"a", "b", "c"}}, search)[0];
  ASSERT_EQ(expected.size(), 3u);
  std::string text = "Call: a b c\n";
  for (size_t k = 0; k < expected.size(); ++k) {
    std::string tokens;
    for (const auto& t : expected[k].tokens) tokens += (tokens.empty() ? "" : " ") + t;
    text += fmt::format("Resp {} (score {:.4f}, log-prob {:.4f}): {}{}\n", k + 1, expected[k].score,
                        expected[k].log_prob, tokens, expected[k].ended ? "" : " [cut]");
  }
  EXPECT_EQ(r.out, text);
}

TEST_F(CliSearch, EvalJsonCarriesTheErrorRatesOfEvaluateFile) {
  const auto r = s2s::test::run_cli("eval --model " + model_path() + " --data " + data_path() +
                                    " --json --beam 3 --length-penalty wu:0.5 --batch 2");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  s2s::EvalOptions o;
  o.search.beam = 3;
  o.search.length_penalty = s2s::LengthPenalty::parse("wu:0.5");
  const s2s::EvalReport expected = s2s::evaluate_file(model_path(), data_path(), o);
  EXPECT_EQ(j["rows"], 4);
  EXPECT_EQ(j["sentences"], 3);
  EXPECT_EQ(j["token_errors"], expected.errors.token_errors);
  EXPECT_EQ(j["reference_tokens"], expected.errors.reference_tokens);
  EXPECT_EQ(j["wrong_sentences"], expected.errors.wrong_sentences);
  EXPECT_DOUBLE_EQ(j["token_error_rate"].get<double>(), expected.errors.token_error_rate());
  EXPECT_DOUBLE_EQ(j["sentence_error_rate"].get<double>(), expected.errors.sentence_error_rate());
  EXPECT_EQ(j["beam"], 3);
  EXPECT_EQ(j["length_penalty"], "wu:0.5");
}

TEST_F(CliSearch, EvalOfAnEnsembleReportsItsErrorRatesAndNoSingleModelNumbers) {
  const std::string models = " --model " + model_path() + " --model " + other_model_path();
  const auto r =
      s2s::test::run_cli("eval" + models + " --data " + data_path() + " --json --beam 3 --batch 2");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  s2s::EvalOptions o;
  o.search.beam = 3;
  const s2s::EvalReport expected =
      s2s::evaluate_file({model_path(), other_model_path()}, data_path(), o);
  EXPECT_EQ(j["models"], 2);
  EXPECT_TRUE(j["loss"].is_null());
  EXPECT_TRUE(j["seq_acc"].is_null());
  EXPECT_EQ(j["sentences"], 3);
  EXPECT_EQ(j["token_errors"], expected.errors.token_errors);
  EXPECT_EQ(j["wrong_sentences"], expected.errors.wrong_sentences);

  const auto text = s2s::test::run_cli("eval" + models + " --data " + data_path());
  ASSERT_EQ(text.exit_code, 0) << text.out;
  EXPECT_EQ(text.out.rfind("ensemble of 2 models\nrows: 4\nloss: -\n", 0), 0u) << text.out;
}

TEST_F(CliSearch, InferWithAnEnsemblePrintsWhatThePredictorOfBothModelsFinds) {
  const auto r = s2s::test::run_cli("infer --model " + model_path() + " --model " +
                                    other_model_path() + " --input 'a b c d' --beam 3");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  s2s::SearchOptions search;
  search.beam = 3;
  s2s::Predictor ensemble(std::vector<std::string>{model_path(), other_model_path()});
  const auto predicted = ensemble.predict({{"a", "b", "c", "d"}}, search);
  std::string tokens;
  for (const auto& t : predicted.at(0)) tokens += (tokens.empty() ? "" : " ") + t;
  EXPECT_EQ(r.out, "Call: a b c d\nResp: " + tokens + "\n");
}

TEST_F(CliSearch, AnEnsembleOfModelsWithDifferentVocabulariesIsRefused) {
  const auto r = s2s::test::run_cli("eval --model " + model_path() + " --model " +
                                    foreign_model_path() + " --data " + data_path());
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("s2s: error: " + foreign_model_path() + ": its vocabulary differs from " +
                       model_path() + "'s"),
            std::string::npos)
      << r.out;
}

TEST_F(CliSearch, BadSearchFlagsAreOneLineErrors) {
  const std::string data = " --data " + data_path();
  const std::pair<std::string, std::string> cases[] = {
      {"infer --model " + model_path() + " --input 'a' --beam 0", "--beam must be in 1..1024"},
      {"infer --model " + model_path() + " --input 'a' --beam 2 --n-best 3",
       "--n-best must be in 1..--beam (2), got 3"},
      {"eval --model " + model_path() + data + " --length-penalty wu", "--length-penalty"},
      {"eval --model " + model_path() + data + " --max-len-ratio -1", "--max-len-ratio"},
      {"infer --model " + model_path() + " --input 'a' --batch 0", "--batch must be >= 1"},
  };
  for (const auto& [args, message] : cases) {
    const auto r = s2s::test::run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find("s2s: error: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(message), std::string::npos) << r.out;
  }
}

}  // namespace
