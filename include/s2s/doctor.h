// `s2s doctor` as a library call: is the stack set up, and is the Intel optimization on?
// The course checks this by running a Conv2d + Linear net with MKL_VERBOSE / MKLDNN_VERBOSE set
// and reading the lines; run_doctor() does the same inside the process and reports numbers.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace s2s {

// Which BLAS torch's matrix multiplies land in, and how fast it is.
struct BlasInfo {
  // Real path (symlinks resolved) of the library that provides sgemm_ to the process: the one
  // torch's CPU matmul calls. Empty when no sgemm_ is visible.
  std::string library;
  // "OpenBLAS", "reference BLAS (netlib)", "MKL", "BLIS", "ATLAS" or "unknown".
  std::string vendor;
  // True for the unoptimised reference BLAS (Debian's /usr/lib/<triplet>/blas/libblas.so.3):
  // correct but 10-100x slower than OpenBLAS.
  bool is_reference = false;
  // Every BLAS-like shared library mapped into the process (from /proc/self/maps).
  std::vector<std::string> loaded;
  // OpenBLAS only (empty / -1 otherwise): its build string, "sequential" | "pthread" | "openmp",
  // and the thread count it will use.
  std::string openblas_config;
  std::string openblas_parallel;
  int openblas_threads = -1;
  // Square float matrix multiply through torch::mm: size n and measured GFLOP/s.
  int64_t sgemm_size = 0;
  double sgemm_gflops = 0.0;
};

// One oneDNN primitive execution, parsed from an `onednn_verbose,exec,...` line.
struct OneDnnExec {
  std::string primitive;       // "convolution", "inner_product", "reorder", "matmul", ...
  std::string implementation;  // "jit:avx512_core", "brgemm:avx512_core", "simple:any", ...
  std::string problem;         // "mb4_ic3oc8_ih8oh6kh3...", "mb4ic288oc10", "8x3x3x3"
  double time_ms = 0.0;
};

// Where one layer of the check net ran: "oneDNN convolution (jit:avx512_core)", "BLAS sgemm_".
struct LayerRoute {
  std::string layer;  // "Conv2d", "Linear", "Linear (to_mkldnn)"
  std::string backend;
};

struct OneDnnInfo {
  std::string version;  // runtime library version, "2.6.3"
  // True when a oneDNN compute primitive (convolution / inner_product / matmul) executed.
  bool ran = false;
  // The highest ISA oneDNN may dispatch to on this CPU (dnnl_get_effective_cpu_isa), e.g.
  // "avx512_core_bf16"; the ISA each primitive actually used is in its implementation name.
  std::string isa;
  // The ISAs the compute primitives (convolution, inner_product, matmul) actually used, taken
  // from their implementation names: "jit:avx512_core" -> "avx512_core".
  std::vector<std::string> isa_used;
  std::vector<std::string> primitives;  // distinct primitive kinds executed, in first-seen order
  std::vector<OneDnnExec> executions;   // every captured exec line, parsed
  std::vector<LayerRoute> layers;       // per layer of the Conv2d + Linear net
  // Largest |difference| between the oneDNN (to_mkldnn) Linear and the dense BLAS Linear.
  double linear_max_abs_diff = 0.0;
  std::vector<std::string> verbose_lines;  // the raw captured lines, for --verbose
};

struct ThreadInfo {
  int torch_intra_op = 0;    // at::get_num_threads(), after configure_runtime()
  int torch_inter_op = 0;    // at::get_num_interop_threads()
  int omp_max_threads = -1;  // omp_get_max_threads() of the OpenMP runtime torch uses; -1 if none
  int hardware_concurrency = 0;
  // Environment variables that change threading, BLAS or oneDNN; unset ones are omitted.
  std::vector<std::pair<std::string, std::string>> env;
};

// The course's autograd example: a=1, b=2, x=a+a*b, y=x^2, y.backward() -> da=18, db=6.
struct AutogradCheck {
  double da = 0.0;
  double db = 0.0;
  bool ok = false;
};

struct DoctorReport {
  bool ok = false;  // every check passed
  // "s2s", "libtorch", "onednn", "openblas", "compiler": name -> version string, in order.
  std::vector<std::pair<std::string, std::string>> versions;
  // Facts about torch's build: "cpu_capability" (AVX2...), "mkldnn" (yes/no), "blas_info".
  std::vector<std::pair<std::string, std::string>> torch;
  BlasInfo blas;
  OneDnnInfo onednn;
  ThreadInfo threads;
  AutogradCheck autograd;
  // Distributed training (s2s launch): c10d's ProcessGroupGloo usable, and what it is or why not.
  bool distributed_available = false;
  std::string distributed;
  std::vector<std::string> warnings;  // why ok is false, and what to do about it
  std::vector<std::string> notes;     // true but surprising facts (e.g. no MKL in Debian torch)
};

// Runs every check and reports threads as they are: call configure_runtime() first, like every
// command. Prints nothing: oneDNN's verbose output is captured from stdout while the net runs.
DoctorReport run_doctor();

// Readable report, several lines, ending with the verdict and any warnings.
std::string format_doctor_text(const DoctorReport& report, bool verbose = false);
// One JSON object: ok, versions{}, torch{}, blas{}, onednn{}, threads{}, autograd{}, warnings[].
std::string format_doctor_json(const DoctorReport& report, bool verbose = false);

}  // namespace s2s
