// The collectives (ProcessGroup) and data parallelism's parts (DataParallel), with the ranks of
// a job as threads of this process on 127.0.0.1.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <numeric>
#include <random>

#include "dist_test_util.h"
#include "s2s/error.h"
#include "train/data_parallel.h"
#include "train/gradient_compression.h"

namespace {

using s2s::DataParallel;
using s2s::ProcessGroup;
using s2s::testing::run_ranks;

// The ranks of these tests are threads, and the global generator is shared: seeding and
// drawing the weights must not interleave with the other rank's (the weights of rank 0's
// seed-11 model were sometimes partly drawn from seed 22).
s2s::Seq2Seq tiny_model(uint64_t seed) {
  static std::mutex generator;
  std::lock_guard<std::mutex> lock(generator);
  at::manual_seed(seed);
  return s2s::Seq2Seq(s2s::Seq2SeqOptions(9).hidden(8).layers(1).dropout(0));
}

TEST(ShardRows, StridesTheGlobalBatchAndPadsItToTheWorld) {
  EXPECT_EQ(s2s::shard_rows({10, 11, 12, 13, 14}, {10, 11}, 0, 2),
            (std::vector<int64_t>{10, 12, 14}));
  EXPECT_EQ(s2s::shard_rows({10, 11, 12, 13, 14}, {10, 11}, 1, 2),
            (std::vector<int64_t>{11, 13, 10}));
  // Fewer rows than ranks: every rank still gets one (padding wraps around).
  EXPECT_EQ(s2s::shard_rows({7}, {7}, 2, 3), (std::vector<int64_t>{7}));
  EXPECT_EQ(s2s::shard_rows({4, 5, 6}, {4}, 0, 1), (std::vector<int64_t>{4, 5, 6}));
}

TEST(DataParallelAlone, StepsAreBatchesGroupedByAccumulation) {
  DataParallel one(nullptr, 1), three(nullptr, 3);
  EXPECT_EQ(one.steps_per_epoch(7), 7);
  EXPECT_EQ(three.steps_per_epoch(7), 3);
  const std::vector<std::vector<int64_t>> plan{{0, 1}, {2, 3}, {4, 5}, {6}};
  EXPECT_EQ(one.step_rows(plan, 2), (std::vector<std::vector<int64_t>>{{4, 5}}));
  EXPECT_EQ(three.step_rows(plan, 1), (std::vector<std::vector<int64_t>>{{6}}));
  EXPECT_TRUE(one.writes_files());
  EXPECT_THROW(DataParallel(nullptr, 0), s2s::Error);
}

TEST(ProcessGroup, AllReduceSumsAndBroadcastCopiesRootsValues) {
  std::vector<at::Tensor> sums(2), copies(2);
  const auto errors = run_ranks(2, [&](int rank, ProcessGroup& group) {
    at::Tensor t = at::full({3}, static_cast<float>(rank + 1));
    group.all_reduce_sum(t);
    at::Tensor b = at::arange(4, at::kFloat) * static_cast<float>(rank + 2);
    group.broadcast(b, 1);
    group.barrier();
    sums[static_cast<size_t>(rank)] = t;
    copies[static_cast<size_t>(rank)] = b;
  });
  ASSERT_EQ(errors, (std::vector<std::string>{"", ""}));
  for (int r = 0; r < 2; ++r) {
    EXPECT_TRUE(at::equal(sums[static_cast<size_t>(r)], at::full({3}, 3.0f)));
    EXPECT_TRUE(at::equal(copies[static_cast<size_t>(r)], at::arange(4, at::kFloat) * 3.0f));
  }
}

TEST(ProcessGroup, AllToAllDealsSegmentsAndAllGatherConcatenatesInRankOrder) {
  std::vector<at::Tensor> dealt(2), gathered(2);
  const auto errors = run_ranks(2, [&](int rank, ProcessGroup& group) {
    // Rank 0 sends 0 1 2 | 3 4 5, rank 1 sends 10 11 12 | 13 14 15 (float16, as DataParallel).
    const at::Tensor mine = (at::arange(6, at::kFloat) + 10.0F * rank).to(at::kHalf);
    at::Tensor received = at::empty_like(mine);
    group.all_to_all(mine, received);
    at::Tensor all = at::empty({4}, at::kHalf);
    group.all_gather(mine.slice(0, 0, 2).contiguous(), all);
    dealt[static_cast<size_t>(rank)] = received.to(at::kFloat);
    gathered[static_cast<size_t>(rank)] = all.to(at::kFloat);
  });
  ASSERT_EQ(errors, (std::vector<std::string>{"", ""}));
  EXPECT_TRUE(at::equal(dealt[0], at::tensor(std::vector<float>{0, 1, 2, 10, 11, 12})));
  EXPECT_TRUE(at::equal(dealt[1], at::tensor(std::vector<float>{3, 4, 5, 13, 14, 15})));
  for (const auto& all : gathered) {
    EXPECT_TRUE(at::equal(all, at::tensor(std::vector<float>{0, 1, 10, 11})));
  }
}

TEST(DataParallel, AveragesGradientsAndAgreesOnFlags) {
  std::vector<std::vector<at::Tensor>> grads(2);
  // Not vector<bool>: its elements share a word, and the ranks (threads) write them at once.
  std::vector<char> finite(2), stop(2);
  const auto errors = run_ranks(2, [&](int rank, ProcessGroup& group) {
    DataParallel parallel(&group, 1);
    s2s::Seq2Seq model = tiny_model(1);
    const auto params = model->parameters();
    for (size_t i = 0; i < params.size(); ++i) {
      // Rank 0: i + 1 everywhere; rank 1: 3 * (i + 1). Rank 1 leaves the first one undefined
      // (a parameter without gradient counts as zeros).
      if (rank == 1 && i == 0) continue;
      params[i].mutable_grad() =
          at::full_like(params[i], static_cast<double>((i + 1) * (rank == 0 ? 1 : 3)));
    }
    // One step: rank 1 asks to stop; both finite.
    const bool all_finite = parallel.average_gradients(model, true, rank == 1);
    finite[static_cast<size_t>(rank)] = all_finite;
    stop[static_cast<size_t>(rank)] = parallel.stop_agreed();
    for (const auto& p : params) grads[static_cast<size_t>(rank)].push_back(p.grad().clone());
    // Another: rank 0's loss was not finite, so no rank takes the step; nobody asks to stop.
    const bool next_finite = parallel.average_gradients(model, rank != 0, false);
    EXPECT_FALSE(next_finite);
    EXPECT_FALSE(parallel.stop_agreed());
    EXPECT_EQ(parallel.stats().steps, 2);
  });
  ASSERT_EQ(errors, (std::vector<std::string>{"", ""}));
  for (size_t r = 0; r < 2; ++r) {
    EXPECT_TRUE(finite[r]);
    EXPECT_TRUE(stop[r]);
    for (size_t i = 0; i < grads[r].size(); ++i) {
      const double expected = i == 0 ? 0.5 : 2.0 * static_cast<double>(i + 1);
      EXPECT_TRUE(at::allclose(grads[r][i], at::full_like(grads[r][i], expected)))
          << "rank " << r << " parameter " << i;
    }
  }
}

// --grad-compression fp16: what arrives is exactly the float16 sum of each rank's float16
// (gradient / 2), widened, so compression really happened (it differs from the f32 mean), half
// the bytes travelled, sums beyond float16's range saturate, and a rank with a non-finite loss
// still makes every rank skip.
TEST(DataParallel, Fp16CompressionAveragesTheFloat16RoundedGradients) {
  std::vector<std::vector<at::Tensor>> sent(2), averaged(2);
  std::vector<s2s::SyncStats> stats(2);
  int64_t numel = 0;
  const auto errors = run_ranks(2, [&](int rank, ProcessGroup& group) {
    DataParallel parallel(&group, 1, s2s::GradCompression::Fp16);
    s2s::Seq2Seq model = tiny_model(1);
    at::Generator generator =
        at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(rank + 5));
    const auto r = static_cast<size_t>(rank);
    int64_t n = 0;
    for (auto& p : model->parameters()) {
      // Magnitudes from float16's subnormals to beyond its range (saturated after / 2).
      p.mutable_grad() = at::randn(p.sizes(), generator) *
                         at::pow(10.0, at::randint(-8, 6, p.sizes(), generator).to(at::kFloat));
      sent[r].push_back(p.grad().clone());
      n += p.numel();
    }
    EXPECT_TRUE(parallel.average_gradients(model, true, false));
    for (const auto& p : model->parameters()) averaged[r].push_back(p.grad().clone());
    EXPECT_FALSE(parallel.average_gradients(model, rank == 1, false));
    stats[r] = parallel.stats();
    if (rank == 0) numel = n;
  });
  ASSERT_EQ(errors, (std::vector<std::string>{"", ""}));
  int64_t differs_from_f32 = 0;
  for (size_t i = 0; i < sent[0].size(); ++i) {
    // The sum of the float16 halves, in f32, rounded once to float16 and saturated.
    const at::Tensor expected =
        s2s::compress_fp16_reference(
            s2s::compress_fp16_reference(sent[0][i], 0.5F).to(at::kFloat) +
                s2s::compress_fp16_reference(sent[1][i], 0.5F).to(at::kFloat),
            1.0F)
            .to(at::kFloat);
    for (size_t r = 0; r < 2; ++r) {
      EXPECT_TRUE(at::equal(averaged[r][i], expected)) << "rank " << r << " parameter " << i;
    }
    differs_from_f32 += at::ne(averaged[0][i], (sent[0][i] + sent[1][i]) / 2).sum().item<int64_t>();
  }
  EXPECT_GT(differs_from_f32, numel / 2);
  int64_t saturated = 0;
  for (const auto& g : averaged[0]) saturated += at::eq(g.abs(), 65504.0F).sum().item<int64_t>();
  EXPECT_GT(saturated, 0);
  for (size_t r = 0; r < 2; ++r) {
    EXPECT_EQ(stats[r].steps, 2);
    EXPECT_EQ(stats[r].bytes, 2 * 2 * numel);  // 2 steps of float16 gradients
  }
}

// A loss of `model` on a batch that depends on `seed` (each rank and batch its own data), drawn
// from a generator of its own: the ranks are threads, the global one is shared.
at::Tensor loss_of(s2s::Seq2Seq& model, int seed) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(seed));
  const at::Tensor src = at::randint(4, 9, {5, 3}, generator, at::kLong);
  const at::Tensor tgt = at::randint(4, 9, {4, 3}, generator, at::kLong);
  return model->forward(src, tgt).sum() / 100;
}

std::vector<at::Tensor> grads_of(s2s::Seq2Seq& model) {
  std::vector<at::Tensor> out;
  for (const auto& p : model->parameters()) out.push_back(p.grad().clone());
  return out;
}

// With overlap, buckets start from gradient hooks while backward runs, and each rank ends with
// the mean over ranks of what plain backward gives it, also summed over an accumulated step's
// batches; a step whose loss was not finite on one rank is skipped by all.
TEST(DataParallel, OverlappedBucketsAverageWhatBackwardGivesEachRank) {
  // [rank][batch] the local gradients; [rank] the averages.
  std::vector<std::vector<std::vector<at::Tensor>>> local(2);
  std::vector<std::vector<at::Tensor>> one(2), accumulated(2);
  std::vector<s2s::SyncStats> stats(2);
  std::vector<size_t> buckets(2);
  const auto errors = run_ranks(2, [&](int rank, ProcessGroup& group) {
    // Stock torch RNNs: two threads may run them at once.
    s2s::Seq2Seq model(
        s2s::Seq2SeqOptions(9).hidden(8).layers(2).dropout(0).impl(s2s::RnnImpl::Torch));
    const auto r = static_cast<size_t>(rank);
    for (int batch = 0; batch < 2; ++batch) {  // plain backward, nothing armed
      for (auto& p : model->parameters()) p.mutable_grad() = at::Tensor();
      loss_of(model, 10 * rank + batch).backward();
      local[r].push_back(grads_of(model));
    }
    DataParallel parallel(&group, 2);
    parallel.overlap_gradients(model, 256);  // buckets of at most 64 floats: many of them
    // One batch.
    for (auto& p : model->parameters()) p.mutable_grad().zero_();
    parallel.arm(false);
    loss_of(model, 10 * rank).backward();
    EXPECT_TRUE(parallel.average_gradients(model, true, false));
    one[r] = grads_of(model);
    // Two accumulated batches: only the second backward is armed.
    for (auto& p : model->parameters()) p.mutable_grad().zero_();
    loss_of(model, 10 * rank).backward();
    parallel.arm(true);
    loss_of(model, 10 * rank + 1).backward();
    EXPECT_TRUE(parallel.average_gradients(model, true, rank == 0));
    EXPECT_TRUE(parallel.stop_agreed());
    accumulated[r] = grads_of(model);
    // Rank 1's loss was not finite: no backward there, and no rank takes the step.
    for (auto& p : model->parameters()) p.mutable_grad().zero_();
    if (rank == 0) {
      parallel.arm(false);
      loss_of(model, 3).backward();
    }
    EXPECT_FALSE(parallel.average_gradients(model, rank == 0, false));
    stats[r] = parallel.stats();
  });
  ASSERT_EQ(errors, (std::vector<std::string>{"", ""}));
  const size_t n = local[0][0].size();
  const int64_t buckets_per_step = stats[0].buckets / 3;
  EXPECT_GT(buckets_per_step, 3);
  for (size_t r = 0; r < 2; ++r) {
    EXPECT_EQ(stats[r].steps, 3);
    EXPECT_EQ(stats[r].buckets, 3 * buckets_per_step);
    // Buckets started during backward: every bucket of the two armed steps of both ranks but
    // the one holding the last gradient backward produced (it starts at its end, at the
    // latest), and rank 0's in the third step.
    EXPECT_GE(stats[r].in_backward, (r == 0 ? 3 : 2) * (buckets_per_step - 1));
    for (size_t i = 0; i < n; ++i) {
      const at::Tensor mean = (local[0][0][i] + local[1][0][i]) / 2;
      EXPECT_TRUE(at::allclose(one[r][i], mean, 1e-5, 1e-7)) << "rank " << r << " param " << i;
      const at::Tensor mean2 =
          (local[0][0][i] + local[0][1][i] + local[1][0][i] + local[1][1][i]) / 2;
      EXPECT_TRUE(at::allclose(accumulated[r][i], mean2, 1e-5, 1e-7))
          << "accumulated: rank " << r << " param " << i;
    }
  }
}

// Overlapped buckets compress too: each bucket goes out as float16 when backward completes it,
// and every rank ends with the float16 mean of what plain backward gives the ranks.
TEST(DataParallel, OverlappedBucketsCompressToFloat16) {
  std::vector<std::vector<at::Tensor>> local(2), averaged(2);
  std::vector<s2s::SyncStats> stats(2);
  const auto errors = run_ranks(2, [&](int rank, ProcessGroup& group) {
    s2s::Seq2Seq model(
        s2s::Seq2SeqOptions(9).hidden(8).layers(2).dropout(0).impl(s2s::RnnImpl::Torch));
    const auto r = static_cast<size_t>(rank);
    loss_of(model, 10 * rank).backward();
    local[r] = grads_of(model);
    DataParallel parallel(&group, 1, s2s::GradCompression::Fp16);
    parallel.overlap_gradients(model, 256);
    for (auto& p : model->parameters()) p.mutable_grad().zero_();
    parallel.arm(false);
    loss_of(model, 10 * rank).backward();
    EXPECT_TRUE(parallel.average_gradients(model, true, false));
    averaged[r] = grads_of(model);
    stats[r] = parallel.stats();
  });
  ASSERT_EQ(errors, (std::vector<std::string>{"", ""}));
  int64_t numel = 0;
  for (size_t i = 0; i < local[0].size(); ++i) {
    numel += local[0][i].numel();
    const at::Tensor expected = (s2s::compress_fp16_reference(local[0][i], 0.5F) +
                                 s2s::compress_fp16_reference(local[1][i], 0.5F))
                                    .to(at::kFloat);
    const at::Tensor mean = (local[0][i] + local[1][i]) / 2;
    for (size_t r = 0; r < 2; ++r) {
      // Backward under hooks may differ from plain backward in f32's last bit, which can move
      // a float16 rounding by one step: allow 2 float16 steps (2^-9 relative).
      EXPECT_TRUE(at::allclose(averaged[r][i], expected, 0x1p-9, 0x1p-24))
          << "rank " << r << " param " << i;
      EXPECT_TRUE(at::equal(averaged[r][i], averaged[1 - r][i])) << "param " << i;
    }
  }
  for (size_t r = 0; r < 2; ++r) {
    EXPECT_GT(stats[r].buckets, 3);
    EXPECT_EQ(stats[r].bytes, 2 * numel);
  }
}

TEST(DataParallel, BroadcastsRank0sParametersAndSumsTallies) {
  std::vector<std::vector<at::Tensor>> params(2);
  std::vector<s2s::Tally> tallies(2);
  std::vector<char> stops(2);  // not vector<bool>: the ranks write it at once
  const auto errors = run_ranks(2, [&](int rank, ProcessGroup& group) {
    DataParallel parallel(&group, 1);
    s2s::Seq2Seq model = tiny_model(rank == 0 ? 11 : 22);  // different initial weights
    parallel.broadcast_parameters(model);
    for (const auto& p : model->parameters()) params[static_cast<size_t>(rank)].push_back(p);
    s2s::Tally t;
    t.loss_sum = 1.5 + rank;
    t.tokens = 10 + rank;
    t.correct_tokens = 3;
    t.seqs = 4;
    t.correct_seqs = rank;
    bool stop = rank == 0;
    tallies[static_cast<size_t>(rank)] = parallel.sum(t, stop);
    stops[static_cast<size_t>(rank)] = stop;
  });
  ASSERT_EQ(errors, (std::vector<std::string>{"", ""}));
  const auto reference = tiny_model(11)->parameters();
  for (size_t r = 0; r < 2; ++r) {
    ASSERT_EQ(params[r].size(), reference.size());
    for (size_t i = 0; i < reference.size(); ++i) {
      EXPECT_TRUE(at::equal(params[r][i], reference[i])) << "rank " << r << " parameter " << i;
    }
    EXPECT_DOUBLE_EQ(tallies[r].loss_sum, 4.0);
    EXPECT_EQ(tallies[r].tokens, 21);
    EXPECT_EQ(tallies[r].correct_tokens, 6);
    EXPECT_EQ(tallies[r].seqs, 8);
    EXPECT_EQ(tallies[r].correct_seqs, 1);
    EXPECT_TRUE(stops[r]);
  }
}

TEST(DataParallel, DifferentModelsOnTheRanksAreAnErrorNamingTheRank) {
  const auto errors = run_ranks(2, [&](int rank, ProcessGroup& group) {
    DataParallel parallel(&group, 1);
    at::manual_seed(1);
    s2s::Seq2Seq model(s2s::Seq2SeqOptions(9).hidden(rank == 0 ? 8 : 16).layers(1).dropout(0));
    parallel.broadcast_parameters(model);
  });
  for (const auto& e : errors) {
    EXPECT_NE(e.find("rank 1 built a different model than rank 0"), std::string::npos) << e;
  }
}

// Every pair of an epoch exactly once across ranks and steps (the plan's rows divide by the
// world), each step's rows from one global batch per accumulated batch.
TEST(DataParallel, ShardsCoverEveryRowOncePerEpoch) {
  constexpr int64_t kRows = 96, kGlobalBatch = 8;
  std::vector<int64_t> order(kRows);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(3));
  std::vector<std::vector<int64_t>> plan;
  for (int64_t start = 0; start < kRows; start += kGlobalBatch) {
    plan.emplace_back(order.begin() + start, order.begin() + start + kGlobalBatch);
  }
  std::vector<std::map<int64_t, int>> seen(2);
  const auto errors = run_ranks(2, [&](int rank, ProcessGroup& group) {
    DataParallel parallel(&group, 3);
    const int64_t steps = parallel.steps_per_epoch(static_cast<int64_t>(plan.size()));
    EXPECT_EQ(steps, 4);
    for (int64_t step = 0; step < steps; ++step) {
      const auto batches = parallel.step_rows(plan, step);
      EXPECT_EQ(batches.size(), 3u);
      for (const auto& rows : batches) {
        EXPECT_EQ(rows.size(), 4u);
        for (int64_t row : rows) ++seen[static_cast<size_t>(rank)][row];
      }
    }
  });
  ASSERT_EQ(errors, (std::vector<std::string>{"", ""}));
  for (int64_t row = 0; row < kRows; ++row) {
    EXPECT_EQ(seen[0][row] + seen[1][row], 1) << "row " << row;
  }
}

TEST(ProcessGroup, MismatchedWorldSizesFailOnEveryRankWithTheSizes) {
  const int port = s2s::testing::free_port();
  std::vector<std::string> errors(2);
  std::vector<std::thread> threads;
  for (int rank = 0; rank < 2; ++rank) {
    threads.emplace_back([&, rank] {
      try {
        ProcessGroup::connect(s2s::testing::local_settings(rank == 0 ? 2 : 3, rank, port, 10));
      } catch (const s2s::Error& e) {
        errors[static_cast<size_t>(rank)] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors[0], "world size mismatch: rank 0 was started with a world of 2, rank 1 with 3");
  EXPECT_EQ(errors[1], "world size mismatch: rank 1 was started with a world of 3, rank 0 with 2");
}

TEST(ProcessGroup, ARankThatNeverJoinsIsNamedAfterTheTimeout) {
  const int port = s2s::testing::free_port();
  try {
    ProcessGroup::connect(s2s::testing::local_settings(2, 0, port, 1));
    FAIL() << "connected alone";
  } catch (const s2s::Error& e) {
    EXPECT_EQ(e.exit_code(), 1);
    EXPECT_NE(std::string(e.what()).find("rank 0: rank 1 did not join at tcp://127.0.0.1:" +
                                         std::to_string(port) + " within 1s"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
