// run_doctor(): the checks that need torch. The process probes live in doctor_probe.cpp,
// the printing in doctor_format.cpp.
#include "runtime/doctor.h"

#include <fmt/format.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "s2s/distributed.h"
#include "s2s/version.h"

namespace s2s {
namespace {

using Clock = std::chrono::steady_clock;

#if defined(__clang__)
constexpr const char* kCompiler = "Clang " __clang_version__;
#elif defined(__GNUC__)
constexpr const char* kCompiler = "GCC " __VERSION__;
#else
constexpr const char* kCompiler = "unknown";
#endif

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// "CPU capability usage: AVX2" -> "AVX2"; key "BLAS_INFO" -> "generic". Empty when absent.
std::string config_value(const std::string& config, const std::string& key, char end) {
  const auto at = config.find(key);
  if (at == std::string::npos) return "";
  const auto from = at + key.size();
  const auto to = config.find_first_of(std::string(1, end) + "\n", from);
  return config.substr(from, to == std::string::npos ? std::string::npos : to - from);
}

// Square float matmul through torch, as a model's Linear layers would call it: GFLOP/s.
void measure_sgemm(BlasInfo& blas) {
  torch::NoGradGuard no_grad;
  const int64_t n = 512;
  const auto a = torch::rand({n, n});
  const auto b = torch::rand({n, n});
  auto c = torch::empty({n, n});
  torch::mm_out(c, a, b);  // warm-up: thread pools, page faults
  // Enough repetitions for a stable figure, bounded in time so reference BLAS stays quick.
  int reps = 0;
  const auto start = Clock::now();
  double elapsed = 0.0;
  do {
    torch::mm_out(c, a, b);
    ++reps;
    elapsed = seconds_since(start);
  } while ((elapsed < 0.25 || reps < 3) && reps < 200);
  blas.sgemm_size = n;
  blas.sgemm_gflops = 2.0 * static_cast<double>(n * n * n) * reps / elapsed / 1e9;
}

BlasInfo check_blas() {
  BlasInfo blas;
  // Torch's CPU matmul calls the Fortran symbol sgemm_; whichever library the dynamic linker
  // resolves it to is the BLAS in use (several may be mapped, only one wins).
  blas.library = doctor::library_providing("sgemm_");
  blas.vendor = doctor::blas_vendor_of(blas.library);
  blas.is_reference = doctor::is_reference_blas(blas.library);
  blas.loaded = doctor::blas_libraries_in_maps(doctor::read_proc_self_maps());
  const doctor::OpenBlasFacts openblas = doctor::probe_openblas();
  blas.openblas_config = openblas.config;
  blas.openblas_parallel = openblas.parallel;
  blas.openblas_threads = openblas.threads;
  measure_sgemm(blas);
  return blas;
}

// The first execution of `primitive` in a pass, if any.
const OneDnnExec* find_exec(const std::vector<OneDnnExec>& execs, const std::string& primitive) {
  const auto it = std::find_if(execs.begin(), execs.end(),
                               [&](const OneDnnExec& e) { return e.primitive == primitive; });
  return it == execs.end() ? nullptr : &*it;
}

// Runs fn with oneDNN verbose on and returns the parsed exec lines it produced.
std::vector<OneDnnExec> run_verbose(OneDnnInfo& info, const std::function<void()>& fn) {
  doctor::set_onednn_verbose(1);
  std::string captured;
  try {
    captured = doctor::capture_stdout(fn);
  } catch (...) {
    doctor::set_onednn_verbose(0);
    throw;
  }
  doctor::set_onednn_verbose(0);
  std::vector<OneDnnExec> execs;
  for (const std::string& line : doctor::onednn_verbose_lines(captured)) {
    info.verbose_lines.push_back(line);
    if (auto exec = doctor::parse_onednn_exec_line(line)) execs.push_back(*exec);
  }
  return execs;
}

// The course's check: one Conv2d and one Linear, run with oneDNN verbose on.
OneDnnInfo check_onednn(const BlasInfo& blas) {
  OneDnnInfo info;
  info.version = doctor::onednn_version();
  info.isa = doctor::onednn_effective_isa();

  torch::NoGradGuard no_grad;
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 8, 3));
  torch::nn::Linear linear(8 * 6 * 6, 10);
  // A batch of 4 small images: torch sends batched float convolutions to oneDNN (mkldnn).
  const auto images = torch::linspace(-1.0, 1.0, 4 * 3 * 8 * 8).reshape({4, 3, 8, 8});

  // Pass 1, the net as a user writes it: dense tensors, stock modules.
  torch::Tensor features;
  torch::Tensor dense_out;
  const auto dense = run_verbose(info, [&] {
    features = conv->forward(images).flatten(1);
    dense_out = linear->forward(features);
  });
  // Pass 2, the Linear through oneDNN: torch's mkldnn tensor path runs an inner_product.
  // A LibTorch built without mkldnn throws here; report that instead of failing the doctor.
  torch::Tensor onednn_out;
  std::vector<OneDnnExec> mkldnn;
  std::string mkldnn_route = "no oneDNN line";
  try {
    mkldnn = run_verbose(info, [&] {
      onednn_out = at::mkldnn_linear(features.to_mkldnn(), linear->weight, linear->bias).to_dense();
    });
    info.linear_max_abs_diff = (onednn_out - dense_out).abs().max().item<double>();
  } catch (const std::exception& e) {
    const std::string what = e.what();
    mkldnn_route = "failed: " + what.substr(0, what.find('\n'));
  }

  info.executions = dense;
  info.executions.insert(info.executions.end(), mkldnn.begin(), mkldnn.end());
  for (const OneDnnExec& exec : info.executions) {
    if (std::find(info.primitives.begin(), info.primitives.end(), exec.primitive) ==
        info.primitives.end()) {
      info.primitives.push_back(exec.primitive);
    }
    if (exec.primitive == "convolution" || exec.primitive == "inner_product" ||
        exec.primitive == "matmul") {
      info.ran = true;
      // "jit:avx512_core" / "brgemm:avx512_core" -> "avx512_core": the ISA it dispatched to.
      const auto colon = exec.implementation.find(':');
      const std::string isa =
          colon == std::string::npos ? exec.implementation : exec.implementation.substr(colon + 1);
      if (std::find(info.isa_used.begin(), info.isa_used.end(), isa) == info.isa_used.end()) {
        info.isa_used.push_back(isa);
      }
    }
  }

  const OneDnnExec* conv_exec = find_exec(dense, "convolution");
  info.layers.push_back({"Conv2d", conv_exec
                                       ? "oneDNN convolution (" + conv_exec->implementation + ")"
                                       : "torch's own convolution (no oneDNN line)"});
  const OneDnnExec* dense_linear = find_exec(dense, "inner_product");
  if (dense_linear == nullptr) dense_linear = find_exec(dense, "matmul");
  info.layers.push_back({"Linear", dense_linear
                                       ? "oneDNN " + dense_linear->primitive + " (" +
                                             dense_linear->implementation + ")"
                                       : "BLAS sgemm_ via " + blas.vendor + " (no oneDNN line)"});
  const OneDnnExec* mkldnn_linear = find_exec(mkldnn, "inner_product");
  info.layers.push_back(
      {"Linear (to_mkldnn)", mkldnn_linear
                                 ? "oneDNN inner_product (" + mkldnn_linear->implementation + ")"
                                 : mkldnn_route});
  return info;
}

// The course's autograd example.
AutogradCheck check_autograd() {
  const auto options = torch::dtype(torch::kFloat64).requires_grad(true);
  const auto a = torch::tensor(1.0, options);
  const auto b = torch::tensor(2.0, options);
  const auto x = a + a * b;
  const auto y = x.pow(2);
  y.backward();
  AutogradCheck check;
  check.da = a.grad().item<double>();
  check.db = b.grad().item<double>();
  check.ok = check.da == 18.0 && check.db == 6.0;  // exact in floating point
  return check;
}

ThreadInfo check_threads() {
  ThreadInfo threads;
  threads.torch_intra_op = at::get_num_threads();
  threads.torch_inter_op = at::get_num_interop_threads();
  threads.omp_max_threads = doctor::omp_max_threads();
  threads.hardware_concurrency = static_cast<int>(std::thread::hardware_concurrency());
  threads.env = doctor::relevant_environment();
  return threads;
}

}  // namespace

namespace doctor {

void apply_verdict(DoctorReport& report) {
  if (report.blas.library.empty()) {
    report.warnings.push_back(
        "no sgemm_ found in the process: torch has no BLAS and matrix multiplies are slow.");
  } else if (report.blas.is_reference) {
    report.warnings.push_back(
        "BLAS is the unoptimised reference BLAS (" + report.blas.library +
        "): matrix multiplies run 10-100x slower. Install OpenBLAS (apt-get install "
        "libopenblas0-openmp) and make it libblas.so.3 (update-alternatives --config "
        "libblas.so.3-x86_64-linux-gnu), and check LD_PRELOAD / LD_LIBRARY_PATH.");
  }
  if (!report.onednn.ran) {
    report.warnings.push_back(
        "oneDNN did not run: no convolution or inner_product verbose line while the Conv2d + "
        "Linear net ran. Torch may be built without mkldnn, or oneDNN verbose is compiled out.");
  } else if (report.onednn.linear_max_abs_diff > 1e-4) {
    report.warnings.push_back(fmt::format("oneDNN's Linear differs from the BLAS Linear by {:g}.",
                                          report.onednn.linear_max_abs_diff));
  }
  if (!report.autograd.ok) {
    report.warnings.push_back(fmt::format("autograd gave da={:g}, db={:g}, expected 18 and 6.",
                                          report.autograd.da, report.autograd.db));
  }
  report.ok = report.warnings.empty();
}

}  // namespace doctor

DoctorReport run_doctor() {
  DoctorReport report;
  const std::string config = at::show_config();
  report.blas = check_blas();
  report.versions = {{"s2s", version()},
                     {"libtorch", TORCH_VERSION},
                     {"onednn", doctor::onednn_version()},
                     {"openblas", report.blas.openblas_config},
                     {"compiler", kCompiler}};
  report.torch = {{"cpu_capability", config_value(config, "CPU capability usage: ", '\n')},
                  {"mkldnn", at::hasMKLDNN() ? "yes" : "no"},
                  {"mkl", at::hasMKL() ? "yes" : "no"},
                  {"blas_info", config_value(config, "BLAS_INFO=", ',')}};
  if (!at::hasMKL()) {
    report.notes.push_back(
        "this LibTorch is built without MKL (BLAS_INFO=" + config_value(config, "BLAS_INFO=", ',') +
        "): the course's MKL_VERBOSE prints nothing; matrix multiplies go to the system BLAS "
        "(" +
        report.blas.vendor + ").");
  }
  report.onednn = check_onednn(report.blas);
  const auto& layers = report.onednn.layers;
  if (layers[0].backend.rfind("oneDNN", 0) == 0 && layers[1].backend.rfind("BLAS", 0) == 0) {
    report.notes.push_back(
        "torch runs Conv2d through oneDNN but a dense Linear through BLAS sgemm_; the Linear "
        "runs on oneDNN only through the mkldnn tensor path (to_mkldnn).");
  }
  report.threads = check_threads();
  report.autograd = check_autograd();
  const DistBackendInfo dist = distributed_backend_info();
  report.distributed_available = dist.available;
  report.distributed = dist.detail;
  if (!dist.available) {
    report.notes.push_back("distributed training (s2s launch) is unavailable: " + dist.detail);
  }
  doctor::apply_verdict(report);
  return report;
}

}  // namespace s2s
