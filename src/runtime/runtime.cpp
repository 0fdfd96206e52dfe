#include "s2s/runtime.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/core/Generator.h>

#include <malloc.h>

#include <algorithm>
#include <limits>
#include <string>

#include "s2s/error.h"

namespace s2s {

// Thread policy: torch, oneDNN and OpenBLAS share one thread pool: LibTorch and oneDNN use
// libgomp, and Debian installs the OpenMP build of OpenBLAS (libopenblas0-openmp), which sizes
// itself from the same omp_get_max_threads(). So there is one knob, torch::set_num_threads, and
// no nested oversubscription between BLAS and torch. How many: auto_threads.cpp.
int64_t default_threads() {
  return auto_threads().threads;
}

namespace {

// A training step allocates and frees the same few megabytes of activations, workspaces and
// gradients every time. glibc's defaults hand them back to the kernel (heap trimming, and
// mmap for big blocks), so the next step takes a page fault for every 4 KiB it touches again:
// ~20k faults and a quarter of the CPU time in the kernel per second of training, and epochs of
// the course model twice as slow (1400 pairs: 6.8 s -> 3.9 s per epoch with this, 478k -> 158k
// faults). Keeping freed memory in the heap costs nothing a step would not use again anyway.
void keep_freed_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // the largest allowed; fixed, so glibc stops adapting it
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
}

}  // namespace

int64_t configure_runtime(const RuntimeOptions& options) {
  if (options.threads < 0) {
    throw Error("--threads must be auto (0) or a positive count, got " +
                std::to_string(options.threads));
  }
  const int64_t threads = options.threads == 0 ? default_threads() : options.threads;
  at::set_num_threads(static_cast<int>(threads));
  // Denormal floats cost x86 cores ~100x per operation. Once a model has nearly converged its
  // gradients and Adam moments drift into that range and every step slows down; flushing them to
  // zero (FTZ/DAZ, as torch.set_flush_denormal(True) does) keeps the step time flat.
  // MXCSR is per thread: set it in every thread of the OpenMP pool that torch and oneDNN share
  // (the pool's threads persist, so it sticks), not only in the calling one.
#pragma omp parallel num_threads(static_cast <int>(threads))
  at::globalContext().setFlushDenormal(options.flush_denormal);
  if (options.keep_freed_memory) keep_freed_memory();
  if (options.seed >= 0) at::manual_seed(static_cast<uint64_t>(options.seed));
  return threads;
}

}  // namespace s2s
