// Several processes training one model: PyTorch's own distributed engine (c10d's
// ProcessGroupGloo over a TCPStore or FileStore rendezvous), with torchrun's conventions, so
// `s2s launch` and `torchrun --no_python` both start `s2s train` ranks. This header is the whole
// surface: where a rank finds the others (DistSettings, from torchrun's environment variables
// and flags) and the collectives data parallelism needs (ProcessGroup). Only
// src/dist/process_group.cpp includes c10d's headers.
#pragma once

#include <ATen/core/Tensor.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace s2s {

// What the command line says about the job; unset fields come from the environment.
struct DistFlags {
  std::optional<int> world_size;  // --world-size (WORLD_SIZE)
  std::optional<int> rank;        // --rank (RANK)
  std::string init;               // --init tcp://HOST:PORT | file:///path (MASTER_ADDR/PORT)
  double timeout_seconds = 30;    // --dist-timeout: store, rendezvous and every collective
};

enum class Rendezvous { Tcp, File };

// Where this rank stands in the job and how it meets the others, resolved once.
struct DistSettings {
  int world_size = 1;
  int rank = 0;
  int local_rank = 0;        // LOCAL_RANK: the rank's index on its machine (for messages)
  int local_world_size = 1;  // LOCAL_WORLD_SIZE: ranks on this machine (default: the world)
  Rendezvous rendezvous = Rendezvous::Tcp;
  std::string host = "127.0.0.1";  // Tcp: the master (rank 0's store)
  int port = 29500;
  std::string path;  // File: the FileStore file (on a file system every rank sees)
  // torchrun's agent already hosts the store (TORCHELASTIC_USE_AGENT_STORE=True): rank 0 is a
  // client too, and keys live under /worker/attempt_<TORCHELASTIC_RESTART_COUNT>.
  bool agent_store = false;
  int restart_count = 0;
  std::string socket_interface;  // GLOO_SOCKET_IFNAME: the interface Gloo binds to
  std::chrono::milliseconds timeout{30000};

  bool distributed() const { return world_size > 1; }
};

// Reads torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT default
// 29500, TORCHELASTIC_USE_AGENT_STORE, TORCHELASTIC_RESTART_COUNT, GLOO_SOCKET_IFNAME) through
// `getenv`, then lets the flags override them. Throws s2s::Error naming the flag or variable
// for a bad value (rank outside the world, an --init that is neither tcp:// nor file://).
DistSettings resolve_dist_settings(
    const DistFlags& flags, const std::function<const char*(const char*)>& getenv =
                                [](const char* name) { return std::getenv(name); });

// Threads for a rank when --threads is automatic: the machine's cores shared by the ranks on
// it, at least 1.
int64_t threads_per_rank(const DistSettings& settings);

// One rank's membership of the job. Every method is a collective: all ranks call it in the
// same order. A failure (a rank died, the network broke, nothing arrived within the timeout)
// throws s2s::Error (exit code 1) saying what and which rank, never hangs past the timeout.
class ProcessGroup {
 public:
  // Meets the other ranks: rank 0 hosts the TCP store (unless the agent does), every rank
  // announces its world size and checks the others' (a mismatch or a rank taken twice is an
  // error), then Gloo connects every pair. Each step is bounded by settings.timeout.
  static std::unique_ptr<ProcessGroup> connect(const DistSettings& settings);
  ~ProcessGroup();
  struct Impl;  // c10d's objects (src/dist/process_group.cpp)
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const;
  int world_size() const;

  // In place: every rank ends with the element-wise sum over ranks. One contiguous CPU tensor.
  void all_reduce_sum(at::Tensor& tensor);

  // An all-reduce under way: the caller computes meanwhile and waits for it later. The tensor
  // must stay untouched until wait() returns; wait() throws as all_reduce_sum does.
  class Pending {
   public:
    struct Work;  // c10d's Work (src/dist/process_group.cpp)
    Pending(std::shared_ptr<Work> work, const ProcessGroup* group);
    void wait();

   private:
    std::shared_ptr<Work> work_;
    const ProcessGroup* group_;
  };
  // Starts all_reduce_sum(tensor) and returns at once. Collectives run in the order started,
  // on every rank alike.
  Pending start_all_reduce_sum(const at::Tensor& tensor);
  // In place: every rank ends with root's values. One contiguous CPU tensor.
  void broadcast(at::Tensor& tensor, int root = 0);
  // `input` cut into world_size() equal segments; rank r receives segment r of every rank's
  // input, in rank order, into `output` (as many elements as `input`). Contiguous 1-D tensors
  // of one type, a multiple of world_size() elements.
  void all_to_all(const at::Tensor& input, at::Tensor& output);
  // Every rank's `input`, in rank order, into `output` (world_size() times its elements).
  // Contiguous 1-D tensors of one type.
  void all_gather(const at::Tensor& input, at::Tensor& output);
  void barrier();

 private:
  explicit ProcessGroup(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Whether this build can run distributed: "c10d ProcessGroupGloo (LibTorch 1.13)", or why not.
struct DistBackendInfo {
  bool available = false;
  std::string detail;
};
DistBackendInfo distributed_backend_info();

}  // namespace s2s
