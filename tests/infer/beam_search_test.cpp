// Beam search against exhaustive search, greedy decoding and its own batch-mates, on tiny
// untrained models (a random model's distributions are as good as any for these properties).
#include "s2s/beam_search.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iostream>
#include <set>
#include <string>

#include "infer/tiny_model.h"
#include "s2s/error.h"

namespace {

using s2s::Hypothesis;
using s2s::LengthPenalty;
using s2s::SearchOptions;

s2s::Seq2Seq tiny_model(int64_t vocab, s2s::RnnImpl impl = s2s::RnnImpl::OneDNN,
                        uint64_t seed = 5) {
  return s2s::test::trained_tiny_model(vocab, impl, seed);
}

// Columns of ids (each followed by <eos>, then <pad>) and their lengths (tokens + <eos>).
std::pair<at::Tensor, at::Tensor> batch_of(const std::vector<std::vector<int64_t>>& sources) {
  size_t longest = 0;
  for (const auto& s : sources) longest = std::max(longest, s.size());
  at::Tensor src =
      at::full({static_cast<int64_t>(longest + 1), static_cast<int64_t>(sources.size())},
               s2s::kPadId, at::kLong);
  at::Tensor lengths = at::empty({static_cast<int64_t>(sources.size())}, at::kLong);
  for (size_t b = 0; b < sources.size(); ++b) {
    for (size_t t = 0; t < sources[b].size(); ++t) {
      src[static_cast<int64_t>(t)][static_cast<int64_t>(b)] = sources[b][t];
    }
    src[static_cast<int64_t>(sources[b].size())][static_cast<int64_t>(b)] = s2s::kEosId;
    lengths[static_cast<int64_t>(b)] = static_cast<int64_t>(sources[b].size() + 1);
  }
  return {src, lengths};
}

// The summed log of the mean of the models' probabilities of each token (and <eos> when
// `ended`): how an ensemble scores a hypothesis, from each model's teacher-forced pass.
double ensemble_log_prob(std::vector<s2s::Seq2Seq>& models, const std::vector<int64_t>& source,
                         const std::vector<int64_t>& tokens, bool ended) {
  torch::NoGradGuard no_grad;
  auto [src, lengths] = batch_of({source});
  std::vector<int64_t> in{s2s::kSosId}, out = tokens;
  in.insert(in.end(), tokens.begin(), tokens.end());
  if (ended) {
    out.push_back(s2s::kEosId);
  } else {
    in.pop_back();
  }
  if (out.empty()) return 0;
  std::vector<at::Tensor> logp;
  for (auto& m : models) logp.push_back(m->forward(src, at::tensor(in, at::kLong).unsqueeze(1)));
  double sum = 0;
  for (size_t t = 0; t < out.size(); ++t) {
    double p = 0;
    for (const auto& l : logp) p += std::exp(l[static_cast<int64_t>(t)][0][out[t]].item<double>());
    sum += std::log(p / static_cast<double>(models.size()));
  }
  return sum;
}

// Sum of the model's log-probabilities of `tokens` (then <eos> when `ended`) for one source,
// from the teacher-forced forward pass: an independent way to score a hypothesis.
double sequence_log_prob(s2s::Seq2Seq& model, const std::vector<int64_t>& source,
                         const std::vector<int64_t>& tokens, bool ended) {
  std::vector<s2s::Seq2Seq> one{model};
  return ensemble_log_prob(one, source, tokens, ended);
}

using Scorer = std::function<double(const std::vector<int64_t>& tokens, bool ended)>;

std::vector<Hypothesis> exhaustive(s2s::Seq2Seq& model, const std::vector<int64_t>& source,
                                   int64_t vocab, int64_t max_steps, const LengthPenalty& penalty);

std::vector<Hypothesis> exhaustive(const Scorer& log_prob, int64_t vocab, int64_t max_steps,
                                   const LengthPenalty& penalty) {
  std::vector<Hypothesis> all;
  std::vector<int64_t> prefix;
  std::function<void()> grow = [&] {
    const auto n = static_cast<int64_t>(prefix.size());
    if (n < max_steps) {
      Hypothesis h{prefix, log_prob(prefix, true), 0, true};
      h.score = h.log_prob / penalty.divisor(h.steps());
      all.push_back(h);
      for (int64_t tok = 0; tok < vocab; ++tok) {
        if (tok == s2s::kEosId) continue;
        prefix.push_back(tok);
        grow();
        prefix.pop_back();
      }
    } else {
      Hypothesis h{prefix, log_prob(prefix, false), 0, false};
      h.score = h.log_prob / penalty.divisor(h.steps());
      all.push_back(h);
    }
  };
  grow();
  std::stable_sort(all.begin(), all.end(),
                   [](const Hypothesis& a, const Hypothesis& b) { return a.score > b.score; });
  return all;
}

std::vector<Hypothesis> exhaustive(s2s::Seq2Seq& model, const std::vector<int64_t>& source,
                                   int64_t vocab, int64_t max_steps, const LengthPenalty& penalty) {
  return exhaustive([&](const std::vector<int64_t>& tokens,
                        bool ended) { return sequence_log_prob(model, source, tokens, ended); },
                    vocab, max_steps, penalty);
}

void expect_same(const std::vector<Hypothesis>& got, const std::vector<Hypothesis>& expected,
                 const std::string& what) {
  ASSERT_EQ(got.size(), expected.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].tokens, expected[i].tokens) << what << " hypothesis " << i;
    EXPECT_EQ(got[i].ended, expected[i].ended) << what << " hypothesis " << i;
    EXPECT_NEAR(got[i].log_prob, expected[i].log_prob, 1e-4) << what << " hypothesis " << i;
    EXPECT_NEAR(got[i].score, expected[i].score, 1e-4) << what << " hypothesis " << i;
  }
}

TEST(BeamSearch, AWideBeamEqualsExhaustiveSearchWithEveryLengthPenalty) {
  // 5 tokens besides <eos>, at most 4 steps: 1 + 5 + 25 + 125 sequences ending in <eos> and
  // 625 cut at the limit. A beam of 750 keeps every extension of every step (at most 125 live
  // prefixes x 6 tokens), so the search must be exact.
  constexpr int64_t kVocab = 6, kSteps = 4;
  auto model = tiny_model(kVocab);
  const std::vector<int64_t> source{4, 5, 4};
  for (const char* penalty : {"none", "avg", "wu:0.6", "wu:2"}) {
    SearchOptions o;
    o.beam = 750;
    o.n_best = 12;
    o.max_len = kSteps;
    o.length_penalty = LengthPenalty::parse(penalty);
    auto [src, lengths] = batch_of({source});
    const auto got = s2s::beam_search(model, src, lengths, o);
    auto expected = exhaustive(model, source, kVocab, kSteps, o.length_penalty);
    ASSERT_EQ(expected.size(), 781u);
    expected.resize(12);
    expect_same(got.at(0), expected, penalty);
  }
}

TEST(BeamSearch, AnEnsembleSearchesTheMeanOfItsModelsProbabilities) {
  constexpr int64_t kVocab = 6, kSteps = 3;
  std::vector<s2s::Seq2Seq> models{tiny_model(kVocab, s2s::RnnImpl::OneDNN, 5),
                                   tiny_model(kVocab, s2s::RnnImpl::OneDNN, 7)};
  const std::vector<int64_t> source{4, 5, 4};
  SearchOptions o;
  o.beam = 200;  // every extension of every step: exact
  o.n_best = 10;
  o.max_len = kSteps;
  o.length_penalty = LengthPenalty::parse("wu:1");
  auto [src, lengths] = batch_of({source});
  const auto got = s2s::beam_search(models, src, lengths, o);
  auto expected =
      exhaustive([&](const std::vector<int64_t>& tokens,
                     bool ended) { return ensemble_log_prob(models, source, tokens, ended); },
                 kVocab, kSteps, o.length_penalty);
  expected.resize(10);
  expect_same(got.at(0), expected, "ensemble");
  // The two models disagree, so the ensemble's list is neither model's own.
  for (auto& m : models) {
    auto alone = exhaustive(m, source, kVocab, kSteps, o.length_penalty);
    alone.resize(10);
    bool same = true;
    for (size_t i = 0; i < alone.size(); ++i) {
      same = same && alone[i].tokens == got[0][i].tokens &&
             std::abs(alone[i].log_prob - got[0][i].log_prob) < 1e-4;
    }
    EXPECT_FALSE(same);
  }
}

TEST(BeamSearch, AnEnsembleOfOneModelTwiceIsThatModel) {
  constexpr int64_t kVocab = 9;
  auto model = tiny_model(kVocab);
  SearchOptions o;
  o.beam = 4;
  o.n_best = 3;
  auto [src, lengths] = batch_of({{4, 5, 6, 7}, {8, 4}, {5, 5, 5, 6}});
  const auto alone = s2s::beam_search(model, src, lengths, o);
  const auto twice = s2s::beam_search(std::vector<s2s::Seq2Seq>{model, model}, src, lengths, o);
  ASSERT_EQ(alone.size(), twice.size());
  for (size_t b = 0; b < alone.size(); ++b) expect_same(twice[b], alone[b], "twice");
}

TEST(BeamSearch, AnEnsembleNeedsOneVocabulary) {
  std::vector<s2s::Seq2Seq> models{tiny_model(6), tiny_model(7)};
  auto [src, lengths] = batch_of({{4, 5}});
  try {
    s2s::beam_search(models, src, lengths, SearchOptions{});
    FAIL() << "searched models with different vocabularies";
  } catch (const s2s::Error& e) {
    EXPECT_STREQ(e.what(), "beam_search: an ensemble's models must share one vocabulary");
  }
}

TEST(BeamSearch, NBestScoresAreSummedTokenLogProbsBestFirst) {
  constexpr int64_t kVocab = 9;
  auto model = tiny_model(kVocab);
  const std::vector<std::vector<int64_t>> sources{{4, 5, 6, 7}, {8, 4}, {5, 5, 5, 5, 5, 6}};
  SearchOptions o;
  o.beam = 6;
  o.n_best = 6;
  o.length_penalty = LengthPenalty::parse("wu:1");
  auto [src, lengths] = batch_of(sources);
  const auto results = s2s::beam_search(model, src, lengths, o);
  ASSERT_EQ(results.size(), sources.size());
  for (size_t b = 0; b < sources.size(); ++b) {
    ASSERT_EQ(results[b].size(), 6u);
    for (size_t i = 0; i < results[b].size(); ++i) {
      const Hypothesis& h = results[b][i];
      EXPECT_NEAR(h.log_prob, sequence_log_prob(model, sources[b], h.tokens, h.ended), 1e-4);
      EXPECT_NEAR(h.score, h.log_prob / o.length_penalty.divisor(h.steps()), 1e-9);
      if (i > 0) {
        EXPECT_GE(results[b][i - 1].score, h.score);
      }
      for (size_t j = 0; j < i; ++j) EXPECT_NE(results[b][j].tokens, h.tokens);
    }
  }
}

class BeamOne : public ::testing::TestWithParam<s2s::RnnImpl> {};

TEST_P(BeamOne, EqualsGreedyDecoding) {
  constexpr int64_t kVocab = 8, kSteps = 6;
  auto model = tiny_model(kVocab, GetParam(), 11);
  // Equal lengths (greedy encodes the padded batch, then the same as each column alone); 5
  // tokens reversed need 6 steps, so a limit of 6 both ends and cuts decodings.
  const at::Tensor src = at::randint(3, kVocab, {6, 40}, at::kLong);
  src[5].fill_(s2s::kEosId);
  const at::Tensor greedy = model->greedy(src, kSteps);
  SearchOptions o;
  o.max_len = kSteps;
  const auto results = s2s::beam_search(model, src, at::full({40}, 6, at::kLong), o);
  int64_t ended = 0;
  for (int64_t b = 0; b < 40; ++b) {
    std::vector<int64_t> tokens;
    bool saw_eos = false;
    for (int64_t t = 0; t < greedy.size(0) && !saw_eos; ++t) {
      const int64_t tok = greedy[t][b].item<int64_t>();
      saw_eos = tok == s2s::kEosId;
      if (!saw_eos) tokens.push_back(tok);
    }
    ASSERT_EQ(results[static_cast<size_t>(b)].size(), 1u);
    EXPECT_EQ(results[static_cast<size_t>(b)][0].tokens, tokens) << "column " << b;
    EXPECT_EQ(results[static_cast<size_t>(b)][0].ended, saw_eos) << "column " << b;
    ended += saw_eos;
  }
  EXPECT_GT(ended, 0);  // both kinds of endings are exercised
  EXPECT_LT(ended, 40);
}

INSTANTIATE_TEST_SUITE_P(Impls, BeamOne,
                         ::testing::Values(s2s::RnnImpl::OneDNN, s2s::RnnImpl::Torch));

TEST(BeamSearch, ASentenceGetsTheSameResultWhateverBatchItShares) {
  constexpr int64_t kVocab = 8;
  auto model = tiny_model(kVocab, s2s::RnnImpl::OneDNN, 13);
  std::vector<std::vector<int64_t>> sources;
  torch::manual_seed(2);
  for (int i = 0; i < 14; ++i) {  // lengths 1..7: padding, and per-sentence maximum lengths
    const auto len = 1 + i % 7;
    const at::Tensor ids = at::randint(3, kVocab, {len}, at::kLong);
    sources.emplace_back(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + len);
  }
  SearchOptions o;
  o.beam = 3;
  o.n_best = 2;
  o.max_len_ratio = 1.5;
  o.length_penalty = LengthPenalty::parse("avg");
  auto [src, lengths] = batch_of(sources);
  const auto together = s2s::beam_search(model, src, lengths, o);
  // Each alone, and in batches of 5 in reverse order (other neighbours, other padding).
  std::vector<std::vector<Hypothesis>> alone, regrouped(sources.size());
  for (const auto& s : sources) {
    auto [one, one_length] = batch_of({s});
    alone.push_back(s2s::beam_search(model, one, one_length, o).at(0));
  }
  for (size_t first = 0; first < sources.size(); first += 5) {
    std::vector<std::vector<int64_t>> group;
    std::vector<size_t> ids;
    for (size_t i = first; i < std::min(sources.size(), first + 5); ++i) {
      ids.push_back(sources.size() - 1 - i);
      group.push_back(sources[ids.back()]);
    }
    auto [g, g_lengths] = batch_of(group);
    auto r = s2s::beam_search(model, g, g_lengths, o);
    for (size_t j = 0; j < ids.size(); ++j) regrouped[ids[j]] = r[j];
  }
  std::set<int64_t> steps;
  for (size_t i = 0; i < sources.size(); ++i) {
    expect_same(together[i], alone[i], "alone, sentence " + std::to_string(i));
    expect_same(together[i], regrouped[i], "regrouped, sentence " + std::to_string(i));
    for (const auto& h : together[i]) steps.insert(h.steps());
  }
  EXPECT_GT(steps.size(), 2u);  // sentences finished at different steps
}

TEST(LengthPenalty, DivisorsAreTheHandComputedValues) {
  EXPECT_DOUBLE_EQ(LengthPenalty::parse("none").divisor(7), 1.0);
  EXPECT_DOUBLE_EQ(LengthPenalty::parse("avg").divisor(4), 4.0);
  EXPECT_DOUBLE_EQ(LengthPenalty::parse("wu:1").divisor(7), 2.0);  // (5 + 7) / 6
  EXPECT_DOUBLE_EQ(LengthPenalty::parse("wu:0.6").divisor(1), 1.0);
  EXPECT_NEAR(LengthPenalty::parse("wu:0.6").divisor(3), 1.1884016386, 1e-9);  // (8/6)^0.6
  EXPECT_DOUBLE_EQ(LengthPenalty::parse("wu:0").divisor(9), 1.0);
  EXPECT_EQ(LengthPenalty::parse("wu:0.6").to_string(), "wu:0.6");
  EXPECT_EQ(LengthPenalty::parse("avg").to_string(), "avg");
}

TEST(LengthPenalty, PenaltiesChooseBetweenAShortAndALongHypothesis) {
  // Summed log-probs -2 after 1 step and -3 after 3 steps: none (-2 vs -3) and wu:1 (-2 vs
  // -3 / (8/6) = -2.25) prefer the short one, avg (-2 vs -1) the long one.
  const auto score = [](const char* p, double lp, int64_t steps) {
    return lp / LengthPenalty::parse(p).divisor(steps);
  };
  EXPECT_GT(score("none", -2, 1), score("none", -3, 3));
  EXPECT_LT(score("avg", -2, 1), score("avg", -3, 3));
  EXPECT_DOUBLE_EQ(score("wu:1", -3, 3), -2.25);
  EXPECT_GT(score("wu:1", -2, 1), score("wu:1", -3, 3));
  EXPECT_DOUBLE_EQ(score("wu:2", -3, 7), -3.0 / 4.0);  // ((5 + 7) / 6)^2 = 4
}

TEST(SearchOptions, BadValuesNameTheFlag) {
  const auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const s2s::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message([] { LengthPenalty::parse("wu"); }).find("--length-penalty"),
            std::string::npos);
  EXPECT_NE(message([] { LengthPenalty::parse("wu:-1"); }).find("--length-penalty"),
            std::string::npos);
  EXPECT_NE(message([] { LengthPenalty::parse("average"); }).find("--length-penalty"),
            std::string::npos);
  SearchOptions o;
  o.beam = 0;
  EXPECT_NE(message([&] { o.check(); }).find("--beam"), std::string::npos);
  o.beam = 2;
  o.n_best = 3;
  EXPECT_NE(message([&] { o.check(); }).find("--n-best"), std::string::npos);
  o.n_best = 1;
  o.max_len_ratio = -1;
  EXPECT_NE(message([&] { o.check(); }).find("--max-len-ratio"), std::string::npos);
}

TEST(SearchOptions, MaxStepsFollowTheSourceLengthUnlessFixed) {
  SearchOptions o;
  EXPECT_EQ(o.max_steps(10), 22);  // 2 x 10 + 2
  o.max_len_ratio = 1.5;
  EXPECT_EQ(o.max_steps(5), 9);  // floor(7.5) + 2
  o.max_len = 4;
  EXPECT_EQ(o.max_steps(100), 4);
}

}  // namespace
