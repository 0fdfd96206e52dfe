// DataLoader: a deterministic per-epoch plan of row indices, collated lazily.
#include <fmt/core.h>

#include <algorithm>
#include <numeric>

#include "data/rng.h"
#include "s2s/dataset.h"
#include "s2s/error.h"

namespace s2s {

DataLoader::DataLoader(std::shared_ptr<const PairDataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  if (!dataset_) throw Error("DataLoader: no dataset");
  if (options_.batch_size < 1) {
    throw Error(fmt::format("batch size must be >= 1, got {}", options_.batch_size));
  }
  if (options_.bucket_by_length && options_.bucket_pool < 1) {
    throw Error(fmt::format("bucket pool must be >= 1 batch, got {}", options_.bucket_pool));
  }
  if (options_.bucket_by_length) {
    const size_t rows = dataset_->rows();
    for (size_t row = 1; row < rows && !bucket_; ++row) {
      bucket_ = dataset_->source_length(row) != dataset_->source_length(0) ||
                dataset_->target_length(row) != dataset_->target_length(0);
    }
  }
}

int64_t DataLoader::num_batches() const {
  const auto n = static_cast<int64_t>(dataset_->rows());
  const int64_t b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<std::vector<int64_t>> DataLoader::plan(int64_t epoch) const {
  const auto n = static_cast<int64_t>(dataset_->rows());
  const int64_t b = options_.batch_size;
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  data::Rng rng(options_.seed, static_cast<uint64_t>(epoch));
  if (options_.shuffle) data::shuffle(order.data(), order.size(), rng);
  if (bucket_) {
    const int64_t pool = b * options_.bucket_pool;
    auto key = [&](int64_t row) {
      return std::make_pair(dataset_->source_length(static_cast<size_t>(row)),
                            dataset_->target_length(static_cast<size_t>(row)));
    };
    for (int64_t start = 0; start < n; start += pool) {
      auto first = order.begin() + start;
      auto last = order.begin() + std::min(n, start + pool);
      std::stable_sort(first, last, [&](int64_t x, int64_t y) { return key(x) < key(y); });
    }
  }
  std::vector<std::vector<int64_t>> batches;
  batches.reserve(static_cast<size_t>(num_batches()));
  for (int64_t start = 0; start < n; start += b) {
    const int64_t end = std::min(n, start + b);
    if (options_.drop_last && end - start < b) break;
    batches.emplace_back(order.begin() + start, order.begin() + end);
  }
  // Sorted pools give batches in length order; shuffle which batch comes first.
  if (bucket_ && options_.shuffle) {
    data::shuffle(batches.data(), batches.size(), rng);
  }
  return batches;
}

Batch DataLoader::batch(const std::vector<int64_t>& indices) const {
  return collate(*dataset_, indices);
}

DataLoader::Epoch::iterator::iterator(const Epoch* epoch, size_t position)
    : epoch_(epoch), position_(position) {
  load();
}

DataLoader::Epoch::iterator& DataLoader::Epoch::iterator::operator++() {
  ++position_;
  load();
  return *this;
}

void DataLoader::Epoch::iterator::load() {
  if (position_ < epoch_->plan_.size()) {
    current_ = epoch_->loader_->batch(epoch_->plan_[position_]);
  } else {
    current_ = Batch{};
  }
}

}  // namespace s2s
