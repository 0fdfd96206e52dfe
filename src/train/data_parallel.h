// Data parallelism with PyTorch's DistributedDataParallel semantics, as one object the trainer
// asks at a few points (the trainer's loop stays the same for one process and for many):
// - parameters broadcast from rank 0 before the first step;
// - each step's data: the epoch's plan is made with the global batch (--batch x ranks), from
//   the shuffle seeded by (--seed, epoch) every rank computes alike, and rank r takes rows
//   r, r + W, r + 2W... of each global batch (DistributedSampler's shard, batched); a last batch
//   that does not divide by W is padded with the epoch's first rows, as DistributedSampler pads;
// - gradients averaged over the ranks after backward, before clipping, in flat buckets, sent as
//   f32 or (GradCompression::Fp16) as float16 scaled by 1 / ranks, as DistributedDataParallel's
//   fp16_compress_hook does; the same all-reduce carries whether each rank's loss was finite
//   and whether one was asked to stop, so all ranks skip a step, or stop, at the same step;
// - tallies (training and validation) summed, so every rank reports the same metrics;
// - rank 0 alone writes the run's files; the others wait at a barrier after checkpoints.
// With no process group (one process) every call is free and changes nothing.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "s2s/distributed.h"
#include "s2s/metrics.h"
#include "s2s/run_record.h"
#include "s2s/seq2seq.h"

namespace s2s {

// The rows rank `rank` of `world` trains on from one global batch: positions rank, rank + W...
// after padding the batch to a multiple of W with `padding`'s rows (cyclically).
std::vector<int64_t> shard_rows(const std::vector<int64_t>& global_batch,
                                const std::vector<int64_t>& padding, int rank, int world);

// Bytes and time of the gradient all-reduces, for the log and the benchmark.
struct SyncStats {
  int64_t steps = 0;
  int64_t bytes = 0;        // gradient bytes all-reduced (per rank, summed over steps; float16
                            // ones count 2 bytes)
  double seconds = 0;       // waiting for them after backward (what overlap did not hide)
  int64_t buckets = 0;      // started, summed over steps
  int64_t in_backward = 0;  // of those, started while backward still ran
};

class DataParallel {
 public:
  // `group` may be null (one process); it must outlive this object. accumulate >= 1.
  DataParallel(ProcessGroup* group, int64_t accumulate,
               GradCompression compression = GradCompression::None);

  int rank() const { return group_ ? group_->rank() : 0; }
  int world_size() const { return group_ ? group_->world_size() : 1; }
  bool distributed() const { return group_ != nullptr; }
  bool writes_files() const { return rank() == 0; }

  // Optimizer steps in an epoch of `global_batches` batches (of --batch x ranks rows each).
  int64_t steps_per_epoch(int64_t global_batches) const;
  // This rank's batches (row indices) of step `step` of the epoch planned as `plan`.
  std::vector<std::vector<int64_t>> step_rows(const std::vector<std::vector<int64_t>>& plan,
                                              int64_t step) const;

  // Rank 0's parameters to every rank; first checks that every rank built the same model
  // shape (an error naming the rank otherwise: different data or flags).
  void broadcast_parameters(Seq2Seq& model);
  // The gradient sync of train_step (GradientSync::after_backward). `stop` is this rank's
  // wish to stop after this step; stop_agreed() then says whether any rank had it.
  bool average_gradients(Seq2Seq& model, bool finite, bool stop);

  // Overlap (call once, before training): hooks on `model`'s parameters copy each gradient
  // into its bucket as backward produces it, and a bucket whose gradients are all in starts
  // its all-reduce while backward goes on. Buckets hold the parameters in reverse order (the
  // order backward reaches them) up to `bucket_bytes`, and start in that order on every rank.
  // average_gradients() then starts what is left, waits, and writes the averages back.
  void overlap_gradients(Seq2Seq& model, int64_t bucket_bytes);
  // The next backward is the step's last (GradientSync::before_last_backward): its gradients,
  // plus those the step's earlier batches accumulated (`accumulated`), are what the buckets
  // carry.
  void arm(bool accumulated);
  // The trainer's bucket size for overlap_gradients.
  static constexpr int64_t kOverlapBucketBytes = 4 << 20;
  bool stop_agreed() const { return stop_agreed_; }
  // The sum over ranks; `stop` in: this rank's wish, out: any rank's.
  Tally sum(const Tally& tally, bool& stop);
  void barrier();

  const SyncStats& stats() const { return stats_; }

 private:
  // The sum over ranks of a float16 bucket of a multiple of world_size() elements.
  at::Tensor sum_fp16(const at::Tensor& flat);
  // The overlapped sync (overlap_gradients). Its float16 buckets go through Gloo's own
  // float16 all-reduce (asynchronous), slower to add than sum_fp16.
  struct Bucket {
    std::vector<size_t> params;  // indices into params_
    std::vector<int64_t> offsets;
    at::Tensor flat;     // f32: what backward gave, then the average
    at::Tensor wire;     // what the all-reduce sends: `flat` itself, or its float16 form
    size_t missing = 0;  // gradients of the armed backward not in yet
    std::optional<ProcessGroup::Pending> reduction;
  };
  void gradient_ready(size_t param, const at::Tensor& grad);
  void start_ready_buckets();  // in bucket order: a bucket starts only after those before it
  void fill_and_start(Bucket& bucket, bool finite);
  bool average_overlapped(bool finite, bool stop);

  ProcessGroup* group_;
  int64_t accumulate_;
  GradCompression compression_;
  bool stop_agreed_ = false;
  SyncStats stats_;

  std::vector<at::Tensor> params_;
  std::vector<Bucket> buckets_;
  std::vector<std::pair<size_t, size_t>> slot_;  // parameter -> (bucket, index in bucket)
  std::vector<bool> arrived_;                    // parameter: gradient copied this step
  size_t next_bucket_ = 0;                       // the first bucket not started
  bool armed_ = false;
  bool accumulated_ = false;  // earlier batches of the armed step left gradients
};

}  // namespace s2s
