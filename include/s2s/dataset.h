// The course's Dataset and DataLoader: a torch::data dataset over a Corpus, and a deterministic
// loader that cuts an epoch into padded, time-major batches. The only data header that needs
// torch.
#pragma once

#include <torch/data/datasets/base.h>
#include <torch/data/example.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

#include "s2s/corpus.h"
#include "s2s/vocab.h"

namespace s2s {

// The course's Dataset: init (corpus + vocabulary), len (size()), getitem (get(i)).
// It keeps the corpus and one small table corpus id -> vocabulary id, so no token is copied:
// a million rows cost what their corpus costs.
class PairDataset : public torch::data::datasets::Dataset<PairDataset, torch::data::Example<>> {
 public:
  // Maps the corpus through `vocab`. Tokens the vocabulary lacks become <unk>; they are counted
  // once here (unknown()), for the caller to report once.
  PairDataset(std::shared_ptr<const Corpus> corpus, const Vocab& vocab);

  // Example i: data = source ids + <eos>, target = target ids + <eos>; 1-D int64 tensors.
  torch::data::Example<> get(size_t index) override;
  torch::optional<size_t> size() const override { return corpus_->size(); }
  size_t rows() const { return corpus_->size(); }

  // Lengths of row i in tokens, including the appended <eos>.
  int64_t source_length(size_t row) const {
    return static_cast<int64_t>(corpus_->source(row).size()) + 1;
  }
  int64_t target_length(size_t row) const {
    return static_cast<int64_t>(corpus_->target(row).size()) + 1;
  }
  // Vocabulary ids of row i (no <eos>).
  std::vector<int64_t> source_ids(size_t row) const;
  std::vector<int64_t> target_ids(size_t row) const;

  const Corpus& corpus() const { return *corpus_; }
  // Vocabulary id of each corpus token id.
  const std::vector<int64_t>& token_map() const { return token_map_; }
  // Unknown tokens met while mapping the corpus (counted once per occurrence in the corpus).
  const UnknownTokens& unknown() const { return unknown_; }

 private:
  std::shared_ptr<const Corpus> corpus_;
  std::vector<int64_t> token_map_;
  UnknownTokens unknown_;
};

// A padded batch, time-major like the reference (nn.utils.rnn.pad_sequence): column b is
// dataset row indices[b].
struct Batch {
  torch::Tensor src;             // [S, B] int64: source + <eos>, then <pad> (0) to the longest
  torch::Tensor tgt;             // [T, B] int64: target + <eos>, then <pad>
  torch::Tensor src_lengths;     // [B] int64, including <eos>
  torch::Tensor tgt_lengths;     // [B] int64, including <eos>
  torch::Tensor tgt_mask;        // [T, B] bool: true on real target tokens (incl. <eos>)
  std::vector<int64_t> indices;  // dataset rows, one per column

  int64_t size() const { return static_cast<int64_t>(indices.size()); }
};

// Builds the batch of the given dataset rows (in that column order). Costs a few microseconds:
// one pass filling preallocated tensors.
Batch collate(const PairDataset& dataset, const std::vector<int64_t>& indices);

// The decoder's teacher-forcing input for a batch: <sos> then tgt[0 .. T-2], [T, B] int64.
torch::Tensor decoder_input(const Batch& batch);

struct LoaderOptions {
  int64_t batch_size = 64;
  // Shuffle rows each epoch. The order depends only on (seed, epoch): the same pair gives the
  // same order in every run, different epochs give different orders. torch's global generator
  // is never used.
  bool shuffle = true;
  uint64_t seed = 0;
  // Drop the last, smaller batch of an epoch.
  bool drop_last = false;
  // Length bucketing: the (shuffled) rows are cut into pools of batch_size * bucket_pool rows,
  // each pool is sorted by (source, target) length and cut into batches, and the batch order
  // is shuffled. Batches hold similar lengths, so there is less padding. A dataset whose rows
  // all have one (source, target) length has no padding to save: its plan stays the plain one.
  bool bucket_by_length = false;
  int64_t bucket_pool = 50;
};

// The course's DataLoader. Iterating an epoch:
//   LoaderOptions options;
//   options.batch_size = 64;
//   options.seed = 7;
//   DataLoader loader(dataset, options);
//   for (const Batch& batch : loader.epoch(e)) { ... }
// Every row appears exactly once per epoch (except the rows dropped by drop_last).
class DataLoader {
 public:
  DataLoader(std::shared_ptr<const PairDataset> dataset, LoaderOptions options);

  // Batches per epoch.
  int64_t num_batches() const;
  const PairDataset& dataset() const { return *dataset_; }
  const LoaderOptions& options() const { return options_; }

  // The row indices of each batch of an epoch, in order. Deterministic in (seed, epoch).
  std::vector<std::vector<int64_t>> plan(int64_t epoch) const;
  // collate(dataset(), indices).
  Batch batch(const std::vector<int64_t>& indices) const;

  // An epoch as a range of Batch, built lazily one at a time.
  class Epoch {
   public:
    class iterator {
     public:
      using iterator_category = std::input_iterator_tag;
      using value_type = Batch;
      using difference_type = std::ptrdiff_t;
      using pointer = const Batch*;
      using reference = const Batch&;

      iterator(const Epoch* epoch, size_t position);
      const Batch& operator*() const { return current_; }
      const Batch* operator->() const { return &current_; }
      iterator& operator++();
      bool operator==(const iterator& other) const { return position_ == other.position_; }
      bool operator!=(const iterator& other) const { return position_ != other.position_; }

     private:
      void load();
      const Epoch* epoch_;
      size_t position_;
      Batch current_;
    };

    Epoch(const DataLoader* loader, std::vector<std::vector<int64_t>> plan)
        : loader_(loader), plan_(std::move(plan)) {}
    iterator begin() const { return iterator(this, 0); }
    iterator end() const { return iterator(this, plan_.size()); }
    size_t size() const { return plan_.size(); }

   private:
    friend class iterator;
    const DataLoader* loader_;
    std::vector<std::vector<int64_t>> plan_;
  };
  Epoch epoch(int64_t epoch) const { return Epoch(this, plan(epoch)); }

 private:
  std::shared_ptr<const PairDataset> dataset_;
  LoaderOptions options_;
  bool bucket_ = false;  // bucket_by_length, and the rows' lengths differ
};

}  // namespace s2s
