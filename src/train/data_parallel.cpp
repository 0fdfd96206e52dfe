#include "train/data_parallel.h"

#include <ATen/ATen.h>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>

#include "s2s/error.h"
#include "train/gradient_compression.h"

namespace s2s {
namespace {

// Gradients travel in flat buckets of at most this many bytes (DistributedDataParallel's
// default bucket size): the course model's 13 MB of gradients is one all-reduce.
constexpr int64_t kBucketBytes = 25 << 20;

// Each step's all-reduce carries two counters after the gradients: ranks whose loss was not
// finite, and ranks asked to stop.
constexpr int64_t kFlags = 2;

at::ScalarType wire_type(GradCompression compression) {
  return compression == GradCompression::Fp16 ? at::kHalf : at::kFloat;
}

// This rank's gradient into its slot of the bucket the all-reduce sends: f32 as it is, or
// float16 after scaling by 1 / ranks (so the float16 sum is already the mean and cannot
// overflow where the mean does not).
void send(const at::Tensor& grad, const at::Tensor& slot, GradCompression compression,
          float scale) {
  if (compression == GradCompression::Fp16) {
    compress_fp16(grad.reshape(-1).contiguous(), slot, scale);
  } else {
    slot.copy_(grad.reshape(-1));
  }
}

// The all-reduced slot into the parameter's gradient: the f32 sum times 1 / ranks, or the
// float16 mean widened.
void receive(const at::Tensor& slot, const at::Tensor& param, GradCompression compression,
             float scale) {
  at::Tensor& grad = param.mutable_grad();
  if (!grad.defined() || !grad.is_contiguous()) {
    grad = at::empty_like(param, at::MemoryFormat::Contiguous);
  }
  at::Tensor flat_grad = grad.view(-1);
  if (compression == GradCompression::Fp16) {
    decompress_fp16(slot, flat_grad);
  } else {
    at::mul_out(flat_grad, slot, at::scalar_tensor(scale, slot.options()));
  }
}

}  // namespace

std::vector<int64_t> shard_rows(const std::vector<int64_t>& global_batch,
                                const std::vector<int64_t>& padding, int rank, int world) {
  std::vector<int64_t> rows = global_batch;
  const auto w = static_cast<size_t>(world);
  for (size_t i = 0; rows.size() % w != 0 && !padding.empty(); ++i) {
    rows.push_back(padding[i % padding.size()]);
  }
  std::vector<int64_t> mine;
  for (size_t i = static_cast<size_t>(rank); i < rows.size(); i += w) mine.push_back(rows[i]);
  return mine;
}

DataParallel::DataParallel(ProcessGroup* group, int64_t accumulate, GradCompression compression)
    : group_(group), accumulate_(accumulate), compression_(compression) {
  if (accumulate_ < 1) throw Error("--accumulate must be at least 1");
}

int64_t DataParallel::steps_per_epoch(int64_t global_batches) const {
  return (global_batches + accumulate_ - 1) / accumulate_;
}

std::vector<std::vector<int64_t>> DataParallel::step_rows(
    const std::vector<std::vector<int64_t>>& plan, int64_t step) const {
  std::vector<std::vector<int64_t>> batches;
  const auto first = static_cast<size_t>(step * accumulate_);
  const size_t end = std::min(plan.size(), first + static_cast<size_t>(accumulate_));
  for (size_t i = first; i < end; ++i) {
    batches.push_back(group_ ? shard_rows(plan[i], plan.front(), rank(), world_size()) : plan[i]);
  }
  return batches;
}

void DataParallel::broadcast_parameters(Seq2Seq& model) {
  if (!group_) return;
  const std::vector<at::Tensor> params = model->parameters();
  int64_t numel = 0;
  for (const auto& p : params) numel += p.numel();
  const std::vector<int64_t> mine{static_cast<int64_t>(params.size()), numel};
  at::Tensor shape = at::tensor(mine, at::kLong);
  group_->broadcast(shape, 0);
  // Every rank learns which ranks differ from rank 0, so all of them fail with the same news.
  at::Tensor differs = at::zeros({world_size()}, at::kLong);
  const bool same = shape[0].item<int64_t>() == mine[0] && shape[1].item<int64_t>() == mine[1];
  differs[rank()] = same ? 0 : 1;
  group_->all_reduce_sum(differs);
  for (int r = 0; r < world_size(); ++r) {
    if (differs[r].item<int64_t>() != 0) {
      throw Error(fmt::format("rank {} built a different model than rank 0 ({} parameters in {} "
                              "tensors here): every rank needs the same data, vocabulary and "
                              "model flags",
                              r, numel, params.size()),
                  1);
    }
  }
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> flat_parts;
  for (const auto& p : params) flat_parts.push_back(p.detach().reshape(-1));
  at::Tensor flat = at::cat(flat_parts);
  group_->broadcast(flat, 0);
  int64_t offset = 0;
  for (const auto& p : params) {
    p.copy_(flat.slice(0, offset, offset + p.numel()).view_as(p));
    offset += p.numel();
  }
}

bool DataParallel::average_gradients(Seq2Seq& model, bool finite, bool stop) {
  stop_agreed_ = stop;
  if (!group_) return finite;
  const auto start = std::chrono::steady_clock::now();
  if (!buckets_.empty()) {
    const bool all_finite = average_overlapped(finite, stop);
    ++stats_.steps;
    stats_.seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return all_finite;
  }
  const std::vector<at::Tensor> params = model->parameters();
  const float scale = 1.0F / static_cast<float>(world_size());
  at::NoGradGuard no_grad;
  bool all_finite = finite;
  size_t first = 0;
  while (first < params.size()) {
    // The bucket: params [first, last), whole tensors, at most kBucketBytes (or one tensor).
    size_t last = first;
    int64_t numel = 0;
    while (last < params.size() &&
           (last == first || (numel + params[last].numel()) * 4 <= kBucketBytes)) {
      numel += params[last].numel();
      ++last;
    }
    const bool final_bucket = last == params.size();
    // float16 buckets are cut into one segment per rank (sum_fp16): padded with zeros to fit.
    const int64_t used = numel + (final_bucket ? kFlags : 0);
    const int64_t segments = compression_ == GradCompression::Fp16 ? world_size() : 1;
    at::Tensor flat =
        at::empty({(used + segments - 1) / segments * segments}, wire_type(compression_));
    flat.slice(0, used).zero_();
    int64_t offset = 0;
    for (size_t i = first; i < last; ++i) {
      const at::Tensor& grad = params[i].grad();
      const int64_t n = params[i].numel();
      const at::Tensor slot = flat.slice(0, offset, offset + n);
      if (grad.defined() && finite) {
        send(grad, slot, compression_, scale);
      } else {
        slot.zero_();
      }
      offset += n;
    }
    if (final_bucket) {  // counts of ranks: exact in float16 too, up to 2048 ranks
      flat[numel] = finite ? 0.0 : 1.0;
      flat[numel + 1] = stop ? 1.0 : 0.0;
    }
    stats_.bytes += numel * static_cast<int64_t>(flat.element_size());
    if (compression_ == GradCompression::Fp16) {
      flat = sum_fp16(flat);
    } else {
      group_->all_reduce_sum(flat);
    }
    if (final_bucket) {
      all_finite = flat[numel].item<float>() == 0;
      stop_agreed_ = flat[numel + 1].item<float>() > 0;
    }
    offset = 0;
    for (size_t i = first; i < last; ++i) {
      receive(flat.slice(0, offset, offset + params[i].numel()), params[i], compression_, scale);
      offset += params[i].numel();
    }
    first = last;
  }
  ++stats_.steps;
  stats_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return all_finite;
}

// The float16 all-reduce, from c10d collectives that move bytes but add nothing: LibTorch
// 1.13's Gloo adds float16 one element at a time in software (Debian's Gloo is built without
// its AVX float16 sum), several times slower than it adds f32, which would cost more than the
// halved transfer saves. So, as a ring all-reduce does, in two halves of the same traffic: an
// all-to-all gives rank r segment r of every rank's bucket (a reduce-scatter), the rank adds
// them (F16C, in f32, rounded once to float16: for two ranks what Gloo's float16 sum gives),
// and an all-gather hands every rank all the summed segments.
at::Tensor DataParallel::sum_fp16(const at::Tensor& flat) {
  const int64_t ranks = world_size(), segment = flat.numel() / ranks;
  at::Tensor received = at::empty_like(flat);
  group_->all_to_all(flat, received);
  at::Tensor mine = at::empty({segment}, flat.options());
  sum_fp16_rows(received.view({ranks, segment}), mine);
  at::Tensor sum = at::empty_like(flat);
  group_->all_gather(mine, sum);
  return sum;
}

void DataParallel::overlap_gradients(Seq2Seq& model, int64_t bucket_bytes) {
  if (!group_) return;
  params_ = model->parameters();
  buckets_.clear();
  slot_.assign(params_.size(), {0, 0});
  arrived_.assign(params_.size(), false);
  int64_t bytes = bucket_bytes;  // the open bucket's, so the first parameter opens one
  for (size_t i = params_.size(); i-- > 0;) {
    const int64_t n = params_[i].numel();
    if (buckets_.empty() || (bytes + n * 4 > bucket_bytes && bytes > 0)) {
      buckets_.emplace_back();
      bytes = 0;
    }
    Bucket& bucket = buckets_.back();
    slot_[i] = {buckets_.size() - 1, bucket.params.size()};
    bucket.offsets.push_back(bytes / 4);
    bucket.params.push_back(i);
    bytes += n * 4;
  }
  for (auto& bucket : buckets_) {
    const int64_t numel = bucket.offsets.back() + params_[bucket.params.back()].numel();
    bucket.flat = at::zeros({numel}, at::kFloat);
    bucket.wire =
        compression_ == GradCompression::Fp16 ? at::empty({numel}, at::kHalf) : bucket.flat;
  }
  for (size_t i = 0; i < params_.size(); ++i) {
    params_[i].register_hook([this, i](const at::Tensor& grad) { gradient_ready(i, grad); });
  }
}

void DataParallel::arm(bool accumulated) {
  if (buckets_.empty()) return;
  accumulated_ = accumulated;
  for (auto& bucket : buckets_) bucket.missing = bucket.params.size();
  std::fill(arrived_.begin(), arrived_.end(), false);
  next_bucket_ = 0;
  armed_ = true;
}

// Runs inside backward (a hook of the parameter's gradient accumulation, before it): the
// parameter's .grad holds what earlier batches of the step accumulated, `grad` this batch's.
void DataParallel::gradient_ready(size_t param, const at::Tensor& grad) {
  if (!armed_ || arrived_[param]) return;
  arrived_[param] = true;
  const auto [b, k] = slot_[param];
  Bucket& bucket = buckets_[b];
  at::NoGradGuard no_grad;
  const int64_t offset = bucket.offsets[k];
  at::Tensor slot = bucket.flat.slice(0, offset, offset + grad.numel());
  slot.copy_(grad.reshape(-1));
  const at::Tensor& earlier = params_[param].grad();
  if (accumulated_ && earlier.defined()) slot.add_(earlier.reshape(-1));
  if (--bucket.missing == 0) start_ready_buckets();
}

void DataParallel::start_ready_buckets() {
  while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].missing == 0) {
    Bucket& bucket = buckets_[next_bucket_++];
    if (compression_ == GradCompression::Fp16) {
      compress_fp16(bucket.flat, bucket.wire, 1.0F / static_cast<float>(world_size()));
    }
    bucket.reduction = group_->start_all_reduce_sum(bucket.wire);
    stats_.bytes += bucket.wire.numel() * static_cast<int64_t>(bucket.wire.element_size());
    ++stats_.buckets;
    stats_.in_backward += armed_ ? 1 : 0;
  }
}

// A bucket backward did not complete: parameters without a gradient this step (unused, or the
// loss was not finite and backward never ran) take their .grad, or zeros.
void DataParallel::fill_and_start(Bucket& bucket, bool finite) {
  at::NoGradGuard no_grad;
  for (size_t k = 0; k < bucket.params.size(); ++k) {
    const size_t i = bucket.params[k];
    if (arrived_[i]) continue;
    at::Tensor slot =
        bucket.flat.slice(0, bucket.offsets[k], bucket.offsets[k] + params_[i].numel());
    const at::Tensor& grad = params_[i].grad();
    if (grad.defined() && finite) {
      slot.copy_(grad.reshape(-1));
    } else {
      slot.zero_();
    }
  }
  bucket.missing = 0;
}

bool DataParallel::average_overlapped(bool finite, bool stop) {
  armed_ = false;  // backward is over
  for (size_t b = next_bucket_; b < buckets_.size(); ++b) fill_and_start(buckets_[b], finite);
  start_ready_buckets();
  at::Tensor flags = at::tensor(std::vector<float>{finite ? 0.0F : 1.0F, stop ? 1.0F : 0.0F});
  ProcessGroup::Pending agreed = group_->start_all_reduce_sum(flags);
  for (auto& bucket : buckets_) {
    bucket.reduction->wait();
    bucket.reduction.reset();
  }
  agreed.wait();
  std::fill(arrived_.begin(), arrived_.end(), false);  // a step not armed gets nothing of this
  next_bucket_ = 0;
  const bool all_finite = flags[0].item<float>() == 0;
  stop_agreed_ = flags[1].item<float>() > 0;
  at::NoGradGuard no_grad;
  const double scale = 1.0 / world_size();
  for (auto& bucket : buckets_) {
    if (compression_ == GradCompression::Fp16) {
      decompress_fp16(bucket.wire, bucket.flat);  // already the mean
    } else {
      bucket.flat.mul_(scale);
    }
    for (size_t k = 0; k < bucket.params.size(); ++k) {
      at::Tensor& param = params_[bucket.params[k]];
      const at::Tensor averaged =
          bucket.flat.slice(0, bucket.offsets[k], bucket.offsets[k] + param.numel()).view_as(param);
      if (param.grad().defined()) {
        param.mutable_grad().copy_(averaged);
      } else {
        param.mutable_grad() = averaged.clone();
      }
    }
  }
  return all_finite;
}

Tally DataParallel::sum(const Tally& tally, bool& stop) {
  if (!group_) return tally;
  at::Tensor v =
      at::tensor(std::vector<double>{tally.loss_sum, static_cast<double>(tally.tokens),
                                     static_cast<double>(tally.correct_tokens),
                                     static_cast<double>(tally.seqs),
                                     static_cast<double>(tally.correct_seqs), stop ? 1.0 : 0.0},
                 at::kDouble);
  group_->all_reduce_sum(v);
  const auto count = [&](int64_t i) { return static_cast<int64_t>(v[i].item<double>()); };
  Tally total;
  total.loss_sum = v[0].item<double>();
  total.tokens = count(1);
  total.correct_tokens = count(2);
  total.seqs = count(3);
  total.correct_seqs = count(4);
  stop = count(5) > 0;
  return total;
}

void DataParallel::barrier() {
  if (group_) group_->barrier();
}

}  // namespace s2s
