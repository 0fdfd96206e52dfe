// PairDataset (the course's Dataset) and DataLoader: exact tensors, padding, masks, lengths,
// every row once per epoch, seeded and epoch-dependent order, drop_last, bucketing.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "s2s/csv.h"
#include "s2s/dataset.h"
#include "s2s/error.h"
#include "s2s/tasks.h"

namespace s2s {
namespace {

std::vector<int64_t> values(const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous().to(torch::kInt64);
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

std::shared_ptr<const PairDataset> dataset_of(const std::string& csv, Vocab* vocab_out = nullptr) {
  auto corpus = std::make_shared<const Corpus>(parse_pairs_csv(csv, "t.csv"));
  const Vocab vocab = Vocab::from_corpus(*corpus);
  if (vocab_out != nullptr) *vocab_out = vocab;
  return std::make_shared<const PairDataset>(corpus, vocab);
}

// Vocabulary of "a b c d e f": ids a=4 b=5 c=6 d=7 e=8 f=9.
const char* kSmall =
    "source,target\n"
    "a b c,d\n"
    "e,f e\n"
    "a,b c d e\n";

TEST(PairDataset, GetItemAppendsEos) {
  auto ds = dataset_of(kSmall);
  EXPECT_EQ(ds->size().value(), 3u);
  PairDataset& mutable_ds = const_cast<PairDataset&>(*ds);
  const auto ex = mutable_ds.get(0);
  EXPECT_EQ(values(ex.data), (std::vector<int64_t>{4, 5, 6, kEosId}));
  EXPECT_EQ(values(ex.target), (std::vector<int64_t>{7, kEosId}));
  EXPECT_EQ(ex.data.scalar_type(), torch::kInt64);
  EXPECT_EQ(ds->source_length(2), 2);
  EXPECT_EQ(ds->target_length(2), 5);
  EXPECT_EQ(ds->target_ids(2), (std::vector<int64_t>{5, 6, 7, 8}));
  EXPECT_THROW(mutable_ds.get(3), Error);
}

TEST(Collate, TimeMajorPaddedWithLengthsAndMask) {
  auto ds = dataset_of(kSmall);
  const Batch b = collate(*ds, {2, 0, 1});
  EXPECT_EQ(b.src.sizes(), (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(b.tgt.sizes(), (std::vector<int64_t>{5, 3}));
  // Columns: row 2 (a), row 0 (a b c), row 1 (e); time-major, <pad> = 0.
  EXPECT_EQ(values(b.src), (std::vector<int64_t>{4, 4, 8,  //
                                                 2, 5, 2,  //
                                                 0, 6, 0,  //
                                                 0, 2, 0}));
  EXPECT_EQ(values(b.tgt), (std::vector<int64_t>{5, 7, 9,  //
                                                 6, 2, 8,  //
                                                 7, 0, 2,  //
                                                 8, 0, 0,  //
                                                 2, 0, 0}));
  EXPECT_EQ(values(b.src_lengths), (std::vector<int64_t>{2, 4, 2}));
  EXPECT_EQ(values(b.tgt_lengths), (std::vector<int64_t>{5, 2, 3}));
  EXPECT_EQ(b.tgt_mask.scalar_type(), torch::kBool);
  EXPECT_TRUE(torch::equal(b.tgt_mask, b.tgt != kPadId));
  EXPECT_EQ(b.indices, (std::vector<int64_t>{2, 0, 1}));
  EXPECT_EQ(values(decoder_input(b)), (std::vector<int64_t>{1, 1, 1,  //
                                                            5, 7, 9,  //
                                                            6, 2, 8,  //
                                                            7, 0, 2,  //
                                                            8, 0, 0}));
  EXPECT_THROW(collate(*ds, {}), Error);
  EXPECT_THROW(collate(*ds, {5}), Error);
}

TEST(PairDataset, UnknownTokensAreMappedAndCountedOnce) {
  Vocab train_vocab;
  dataset_of(kSmall, &train_vocab);
  auto corpus = std::make_shared<const Corpus>(
      parse_pairs_csv("source,target\na x,y\nx x,b\nc,d\n", "v.csv"));
  const PairDataset ds(corpus, train_vocab);
  EXPECT_EQ(ds.unknown().tokens, 4);
  EXPECT_EQ(ds.unknown().rows, 2);
  EXPECT_EQ(ds.unknown().examples, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(ds.source_ids(1), (std::vector<int64_t>{kUnkId, kUnkId}));
  const PairDataset clean(corpus, Vocab::from_corpus(*corpus));
  EXPECT_FALSE(clean.unknown().any());
}

std::shared_ptr<const PairDataset> numbered(int rows, int max_len = 1) {
  std::vector<Pair> pairs;
  for (int i = 0; i < rows; ++i) {
    Pair p;
    const int len = 1 + (i * 7) % max_len;
    for (int t = 0; t < len; ++t) p.source.push_back(std::to_string(i));
    p.target = {std::to_string(i)};
    pairs.push_back(p);
  }
  auto corpus = std::make_shared<const Corpus>(make_corpus(pairs));
  return std::make_shared<const PairDataset>(corpus, Vocab::from_corpus(*corpus));
}

std::vector<int64_t> epoch_rows(const DataLoader& loader, int64_t epoch) {
  std::vector<int64_t> rows;
  for (const Batch& b : loader.epoch(epoch)) {
    // Each column really holds its row: the source token of row i is the string "i".
    const auto src = values(b.src[0]);
    for (size_t c = 0; c < b.indices.size(); ++c) {
      EXPECT_EQ(loader.dataset().corpus().token(
                    loader.dataset().corpus().source(static_cast<size_t>(b.indices[c]))[0]),
                std::to_string(b.indices[c]));
      EXPECT_EQ(src[c],
                loader.dataset().token_map()[static_cast<size_t>(
                    loader.dataset().corpus().source(static_cast<size_t>(b.indices[c]))[0])]);
    }
    rows.insert(rows.end(), b.indices.begin(), b.indices.end());
  }
  return rows;
}

TEST(DataLoader, EveryRowOncePerEpochNewOrderEachEpochSameAcrossRuns) {
  auto ds = numbered(1000);
  LoaderOptions o;
  o.batch_size = 64;
  o.seed = 11;
  const DataLoader a(ds, o), b(ds, o);
  EXPECT_EQ(a.num_batches(), 16);
  std::set<std::vector<int64_t>> orders;
  for (int64_t epoch = 1; epoch <= 3; ++epoch) {
    const auto rows = epoch_rows(a, epoch);
    std::vector<int64_t> sorted = rows;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int64_t> all(1000);
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ(sorted, all) << "epoch " << epoch;
    EXPECT_EQ(rows, epoch_rows(b, epoch));  // same seed and epoch: same order
    orders.insert(rows);
  }
  EXPECT_EQ(orders.size(), 3u);  // three epochs, three orders
  LoaderOptions other = o;
  other.seed = 12;
  EXPECT_NE(epoch_rows(DataLoader(ds, other), 1), epoch_rows(a, 1));
  // torch's global generator is neither used nor disturbed.
  torch::manual_seed(3);
  const auto expected = torch::rand({1});
  torch::manual_seed(3);
  (void)a.plan(1);
  EXPECT_TRUE(torch::equal(torch::rand({1}), expected));
}

TEST(DataLoader, LastBatchAndDropLast) {
  auto ds = numbered(130);
  LoaderOptions o;
  o.batch_size = 64;
  o.shuffle = false;
  const DataLoader keep(ds, o);
  const auto plan = keep.plan(0);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[2], (std::vector<int64_t>{128, 129}));
  EXPECT_EQ(plan[0].front(), 0);
  o.drop_last = true;
  o.shuffle = true;
  const DataLoader drop(ds, o);
  EXPECT_EQ(drop.num_batches(), 2);
  const auto rows = epoch_rows(drop, 4);
  EXPECT_EQ(rows.size(), 128u);
  EXPECT_EQ(std::set<int64_t>(rows.begin(), rows.end()).size(), 128u);
  o.batch_size = 0;
  EXPECT_THROW(DataLoader(ds, o), Error);
}

int64_t padding(const DataLoader& loader, int64_t epoch) {
  int64_t pad = 0;
  for (const Batch& b : loader.epoch(epoch)) pad += (b.src == kPadId).sum().item<int64_t>();
  return pad;
}

TEST(DataLoader, LengthBucketingCutsPaddingAndKeepsEveryRow) {
  auto ds = numbered(2000, 20);
  LoaderOptions o;
  o.batch_size = 32;
  o.seed = 3;
  LoaderOptions bucketed = o;
  bucketed.bucket_by_length = true;
  bucketed.bucket_pool = 10;
  const DataLoader plain(ds, o), buckets(ds, bucketed);
  auto rows = epoch_rows(buckets, 1);
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(rows.size(), 2000u);
  EXPECT_EQ(std::set<int64_t>(rows.begin(), rows.end()).size(), 2000u);
  EXPECT_LT(padding(buckets, 1) * 4, padding(plain, 1));
  EXPECT_EQ(buckets.plan(1), DataLoader(ds, bucketed).plan(1));
  EXPECT_NE(buckets.plan(1), buckets.plan(2));
}

TEST(DataLoader, LengthBucketingLeavesRowsOfOneLengthInThePlainOrder) {
  // The course's split: every row is 10 digits and 10 digits, so there is no padding to save,
  // and a run with --bucket-pool keeps the batches it would have had without.
  TaskOptions t;
  auto corpus =
      std::make_shared<const Corpus>(make_corpus(generate_task("zero-shift", 3000, t, 1)));
  auto ds = std::make_shared<const PairDataset>(corpus, Vocab::from_corpus(*corpus));
  LoaderOptions o;
  o.seed = 5;
  LoaderOptions bucketed = o;
  bucketed.bucket_by_length = true;
  bucketed.bucket_pool = 4;
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    EXPECT_EQ(DataLoader(ds, bucketed).plan(epoch), DataLoader(ds, o).plan(epoch));
  }
  // One row of another length, and the same options reorder the rows.
  auto pairs = generate_task("zero-shift", 3000, t, 1);
  pairs[17].source.push_back(pairs[17].source.front());
  auto mixed = std::make_shared<const Corpus>(make_corpus(pairs));
  auto mixed_ds = std::make_shared<const PairDataset>(mixed, Vocab::from_corpus(*mixed));
  EXPECT_NE(DataLoader(mixed_ds, bucketed).plan(0), DataLoader(mixed_ds, o).plan(0));
}

// How long building a batch takes is measured in bench/data_batches.cpp, not asserted here.
TEST(DataLoader, EveryEpochYieldsEveryBatchOfTheCourseSplit) {
  TaskOptions o;
  auto corpus =
      std::make_shared<const Corpus>(make_corpus(generate_task("zero-shift", 14000, o, 1)));
  auto ds = std::make_shared<const PairDataset>(corpus, Vocab::from_corpus(*corpus));
  const DataLoader loader(ds, {});
  EXPECT_EQ(loader.num_batches(), 219);
  for (int epoch = 0; epoch < 5; ++epoch) {
    int64_t batches = 0, rows = 0;
    for (const Batch& b : loader.epoch(epoch)) {
      batches += 1;
      rows += b.size();
    }
    EXPECT_EQ(batches, 219) << "epoch " << epoch;
    EXPECT_EQ(rows, 14000) << "epoch " << epoch;
  }
}

}  // namespace
}  // namespace s2s
