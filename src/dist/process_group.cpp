// ProcessGroup on c10d: a TCPStore or FileStore rendezvous and ProcessGroupGloo. The only
// translation unit that includes c10d's headers (compiled with USE_C10D_GLOO; slow to build).
#include <c10/util/Exception.h>
#include <fmt/core.h>
#include <torch/version.h>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "s2s/distributed.h"
#include "s2s/error.h"

namespace s2s {
namespace {

constexpr int kRuntimeFailure = 1;  // not bad input: the job failed while running

// c10d's messages carry a C++ backtrace; users need the first line.
std::string short_message(const std::exception& e) {
  std::string text;
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) {
    text = c10->what_without_backtrace();
  } else {
    text = e.what();
  }
  const auto newline = text.find('\n');
  return newline == std::string::npos ? text : text.substr(0, newline);
}

std::vector<uint8_t> bytes_of(const std::string& s) {
  return {s.begin(), s.end()};
}
std::string string_of(const std::vector<uint8_t>& b) {
  return {b.begin(), b.end()};
}

bool hosts_store(const DistSettings& s) {
  return s.rendezvous == Rendezvous::Tcp && s.rank == 0 && !s.agent_store;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

std::string where(const DistSettings& s) {
  return s.rendezvous == Rendezvous::Tcp ? fmt::format("tcp://{}:{}", s.host, s.port)
                                         : "file://" + s.path;
}

c10::intrusive_ptr<c10d::Store> open_store(const DistSettings& s) {
  c10::intrusive_ptr<c10d::Store> store;
  try {
    if (s.rendezvous == Rendezvous::File) {
      store = c10::make_intrusive<c10d::FileStore>(s.path, s.world_size);
      store->setTimeout(s.timeout);
    } else {
      c10d::TCPStoreOptions options;
      options.port = static_cast<std::uint16_t>(s.port);
      options.isServer = hosts_store(s);
      options.numWorkers = static_cast<std::size_t>(s.world_size);
      options.waitWorkers = false;  // we wait ourselves, with messages that name the rank
      options.timeout = s.timeout;
      store = c10::make_intrusive<c10d::TCPStore>(s.host, options);
    }
  } catch (const std::exception& e) {
    const bool server = hosts_store(s);
    throw Error(fmt::format("rank {}: cannot {} the rendezvous store at {}{}: {}{}", s.rank,
                            server ? "host" : "reach", where(s),
                            server ? "" : fmt::format(" within {}s", s.timeout.count() / 1000.0),
                            short_message(e),
                            server ? " (port in use? pick another --master-port)"
                                   : " (is rank 0 running, and the address reachable?)"),
                kRuntimeFailure);
  }
  if (s.agent_store) {
    store = c10::make_intrusive<c10d::PrefixStore>(
        fmt::format("/worker/attempt_{}", s.restart_count), store);
  }
  return store;
}

// Every rank announces its world size and claims its rank; then reads every other rank's
// announcement, so a mismatch or a missing rank is an error naming it, within the timeout.
void check_membership(c10d::Store& store, const DistSettings& s) {
  const std::string prefix = "s2s/rank/";
  if (store.add(prefix + std::to_string(s.rank) + "/claims", 1) > 1) {
    throw Error(fmt::format("rank {} was claimed by another process too (the same --rank twice, "
                            "or a stale rendezvous file from an earlier run: delete it)",
                            s.rank),
                kRuntimeFailure);
  }
  store.set(prefix + std::to_string(s.rank) + "/world", bytes_of(std::to_string(s.world_size)));
  for (int other = 0; other < s.world_size; ++other) {
    if (other == s.rank) continue;
    const std::string key = prefix + std::to_string(other) + "/world";
    try {
      store.wait({key}, s.timeout);
    } catch (const std::exception& e) {
      throw Error(fmt::format("rank {}: rank {} did not join at {} within {}s (not started, a "
                              "different --init/MASTER_ADDR:MASTER_PORT, or a smaller world?)",
                              s.rank, other, where(s), s.timeout.count() / 1000.0),
                  kRuntimeFailure);
    }
    const std::string theirs = string_of(store.get(key));
    if (theirs != std::to_string(s.world_size)) {
      // Every rank reads rank 0's size first. If this process hosts the store, its exit would
      // cut the other rank off before it reads our size and can name the mismatch itself; so
      // wait (briefly, best effort) until it has.
      store.set(prefix + std::to_string(s.rank) + "/checked", bytes_of("1"));
      if (hosts_store(s)) {
        try {
          store.wait({prefix + std::to_string(other) + "/checked"},
                     std::min(s.timeout, std::chrono::milliseconds(10000)));
        } catch (const std::exception&) {
        }
      }
      throw Error(fmt::format("world size mismatch: rank {} was started with a world of {}, "
                              "rank {} with {}",
                              s.rank, s.world_size, other, theirs),
                  kRuntimeFailure);
    }
  }
}

std::shared_ptr<::gloo::transport::Device> gloo_device(const DistSettings& s) {
  if (!s.socket_interface.empty()) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(s.socket_interface);
  }
  // One machine: stay on loopback, whatever the host name resolves to.
  if (s.rendezvous == Rendezvous::Tcp && is_loopback(s.host)) {
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

}  // namespace

struct ProcessGroup::Impl {
  DistSettings settings;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;

  // Runs a collective and waits for it; any failure becomes one line naming this rank.
  void run(const char* what, const std::function<c10::intrusive_ptr<c10d::Work>()>& start) {
    try {
      auto work = start();
      work->wait(settings.timeout);
    } catch (const std::exception& e) {
      throw failure(what, e);
    }
  }
  Error failure(const char* what, const std::exception& e) const {
    return Error(
        fmt::format("rank {}: {} failed, the job cannot continue (another rank died, "
                    "or nothing arrived within {}s): {}",
                    settings.rank, what, settings.timeout.count() / 1000.0, short_message(e)),
        kRuntimeFailure);
  }
};

struct ProcessGroup::Pending::Work {
  c10::intrusive_ptr<c10d::Work> work;
  std::vector<at::Tensor> tensors;  // what Gloo reads and writes, alive until the end
  std::exception_ptr start_error;
};

ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProcessGroup::~ProcessGroup() = default;

namespace {

// The rendezvous, run on a thread of its own by connect() below.
std::unique_ptr<ProcessGroup::Impl> meet(const DistSettings& settings);

}  // namespace

// c10d bounds waiting for keys and for peers, but not a store client's reads: a store address
// where something else listens (a busy port) accepts the connection and never answers, and the
// client would block forever. So the rendezvous runs on its own thread, and this one gives up
// after twice the timeout (the store's connect and the peers' arrival each have one timeout);
// the stuck thread then ends with the process.
std::unique_ptr<ProcessGroup> ProcessGroup::connect(const DistSettings& settings) {
  struct Outcome {
    std::mutex mutex;
    std::condition_variable done;
    bool finished = false;
    std::unique_ptr<Impl> impl;
    std::exception_ptr error;
  };
  auto outcome = std::make_shared<Outcome>();
  std::thread([outcome, settings] {
    std::unique_ptr<Impl> impl;
    std::exception_ptr error;
    try {
      impl = meet(settings);
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard lock(outcome->mutex);
    outcome->impl = std::move(impl);
    outcome->error = error;
    outcome->finished = true;
    outcome->done.notify_all();
  }).detach();
  std::unique_lock lock(outcome->mutex);
  if (!outcome->done.wait_for(lock, 2 * settings.timeout, [&] { return outcome->finished; })) {
    throw Error(fmt::format("rank {}: the rendezvous at {} did not complete within {}s (does "
                            "something other than rank 0's store listen there?)",
                            settings.rank, where(settings), 2 * settings.timeout.count() / 1000.0),
                kRuntimeFailure);
  }
  if (outcome->error) std::rethrow_exception(outcome->error);
  return std::unique_ptr<ProcessGroup>(new ProcessGroup(std::move(outcome->impl)));
}

namespace {

std::unique_ptr<ProcessGroup::Impl> meet(const DistSettings& settings) {
  auto impl = std::make_unique<ProcessGroup::Impl>();
  impl->settings = settings;
  impl->store = open_store(settings);
  check_membership(*impl->store, settings);
  try {
    auto options = c10d::ProcessGroupGloo::Options::create(settings.timeout);
    options->devices.push_back(gloo_device(settings));
    options->threads = 1;  // one collective at a time; compute keeps the cores
    auto store = c10::make_intrusive<c10d::PrefixStore>("s2s/gloo", impl->store);
    impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, settings.rank,
                                                              settings.world_size, options);
    // Gloo's constructor may return on one rank before every pair is connected on the others;
    // a first barrier settles the mesh, so a rank that leaves early cannot break a peer's join.
    impl->group->barrier()->wait(settings.timeout);
  } catch (const std::exception& e) {
    throw Error(fmt::format("rank {}: Gloo could not connect the ranks within {}s: {}{}",
                            settings.rank, settings.timeout.count() / 1000.0, short_message(e),
                            settings.socket_interface.empty()
                                ? " (on several machines, set GLOO_SOCKET_IFNAME)"
                                : ""),
                kRuntimeFailure);
  }
  return impl;
}

}  // namespace

int ProcessGroup::rank() const {
  return impl_->settings.rank;
}
int ProcessGroup::world_size() const {
  return impl_->settings.world_size;
}

void ProcessGroup::all_reduce_sum(at::Tensor& tensor) {
  std::vector<at::Tensor> tensors{tensor};
  impl_->run("all-reduce", [&] { return impl_->group->allreduce(tensors); });
}

ProcessGroup::Pending::Pending(std::shared_ptr<Work> work, const ProcessGroup* group)
    : work_(std::move(work)), group_(group) {}

void ProcessGroup::Pending::wait() {
  if (!work_) return;
  const auto work = std::move(work_);
  try {
    if (work->start_error) std::rethrow_exception(work->start_error);
    work->work->wait(group_->impl_->settings.timeout);
  } catch (const std::exception& e) {
    throw group_->impl_->failure("all-reduce", e);
  }
}

ProcessGroup::Pending ProcessGroup::start_all_reduce_sum(const at::Tensor& tensor) {
  auto work = std::make_shared<Pending::Work>();
  work->tensors = {tensor};
  try {
    work->work = impl_->group->allreduce(work->tensors);
  } catch (...) {
    work->start_error = std::current_exception();  // reported by wait(), as a failed transfer
  }
  return Pending(std::move(work), this);
}

void ProcessGroup::broadcast(at::Tensor& tensor, int root) {
  std::vector<at::Tensor> tensors{tensor};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  impl_->run("broadcast", [&] { return impl_->group->broadcast(tensors, options); });
}

void ProcessGroup::all_to_all(const at::Tensor& input, at::Tensor& output) {
  at::Tensor in = input;
  std::vector<int64_t> equal_splits;  // empty: world_size() equal segments
  impl_->run("all-to-all",
             [&] { return impl_->group->alltoall_base(output, in, equal_splits, equal_splits); });
}

void ProcessGroup::all_gather(const at::Tensor& input, at::Tensor& output) {
  const int64_t n = input.numel();
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int r = 0; r < world_size(); ++r) outputs[0].push_back(output.narrow(0, r * n, n));
  std::vector<at::Tensor> inputs{input};
  impl_->run("all-gather", [&] { return impl_->group->allgather(outputs, inputs); });
}

void ProcessGroup::barrier() {
  impl_->run("barrier", [&] { return impl_->group->barrier(); });
}

DistBackendInfo distributed_backend_info() {
  DistBackendInfo info;
  // Creating a device proves the Gloo transport is linked and a socket can be bound.
  try {
    auto device = c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
    info.available = device != nullptr;
    info.detail = "c10d ProcessGroupGloo + TCPStore/FileStore (LibTorch " TORCH_VERSION ")";
  } catch (const std::exception& e) {
    info.detail = "Gloo unusable: " + short_message(e);
  }
  return info;
}

}  // namespace s2s
