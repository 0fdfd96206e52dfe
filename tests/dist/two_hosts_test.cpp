// Two "hosts" on one machine: network namespaces joined by a veth pair, 10.77.0.1 and
// 10.77.0.2, one rank of a job in each. Neither rank can reach the other on 127.0.0.1 (each
// namespace has its own loopback), so the store, the rendezvous and Gloo's traffic all cross
// the veth pair, as between two machines. Needs root and iproute2's `ip netns`; where
// namespaces cannot be made the test is skipped with the reason.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "cli_test_util.h"
#include "dist_test_util.h"

namespace {

using s2s::testing::as_rank;
using s2s::testing::exit_within;
using s2s::testing::expect_same_training;
using s2s::testing::free_port;
using s2s::testing::read_text;
using s2s::testing::run_job;
using s2s::testing::temp_dir;
using s2s::testing::tiny_run;
using s2s::testing::write_copy_task;

// Runs a command line; its output (stderr too) on failure, "" on success.
std::string run(const std::string& line) {
  const auto r = s2s::test::run_command(line + " 2>&1");
  return r.exit_code == 0 ? "" : "`" + line + "`: " + (r.out.empty() ? "failed" : r.out);
}

// Two namespaces with one end of a veth pair each; removed on destruction (deleting a
// namespace deletes its end of the pair, and the pair with it), whatever the test did.
class TwoHosts {
 public:
  TwoHosts() {
    const std::string id = std::to_string(::getpid());
    ns_ = {"s2s_h0_" + id, "s2s_h1_" + id};
    veth_ = {"s2sv0_" + id, "s2sv1_" + id};  // interface names: 15 characters at most
    for (const auto& ns : ns_) {
      if (!(error_ = run("ip netns add " + ns)).empty()) return;
      made_.push_back(ns);
    }
    const std::vector<std::string> steps{
        "ip link add " + veth_[0] + " type veth peer name " + veth_[1],
        "ip link set " + veth_[0] + " netns " + ns_[0],
        "ip link set " + veth_[1] + " netns " + ns_[1],
        "ip -n " + ns_[0] + " addr add " + address(0) + "/24 dev " + veth_[0],
        "ip -n " + ns_[1] + " addr add " + address(1) + "/24 dev " + veth_[1],
        "ip -n " + ns_[0] + " link set lo up",
        "ip -n " + ns_[1] + " link set lo up",
        "ip -n " + ns_[0] + " link set " + veth_[0] + " up",
        "ip -n " + ns_[1] + " link set " + veth_[1] + " up",
    };
    for (const auto& step : steps) {
      if (!(error_ = run(step)).empty()) return;
    }
  }
  ~TwoHosts() {
    for (const auto& ns : made_) run("ip netns del " + ns);
    run("ip link del " + veth_[0]);  // only there if moving it into a namespace failed
  }
  TwoHosts(const TwoHosts&) = delete;
  TwoHosts& operator=(const TwoHosts&) = delete;

  const std::string& error() const { return error_; }
  static std::string address(int host) { return host == 0 ? "10.77.0.1" : "10.77.0.2"; }
  // The words that run a command on `host`, with Gloo bound to its end of the pair.
  std::vector<std::string> on(int host) const {
    return {"ip", "netns", "exec", ns_[host], "env", "GLOO_SOCKET_IFNAME=" + veth_[host]};
  }
  // Bytes that arrived at `host` over the pair.
  int64_t received_bytes(int host) const {
    const auto r = s2s::test::run_command("ip netns exec " + ns_[host] + " cat /sys/class/net/" +
                                          veth_[host] + "/statistics/rx_bytes");
    return r.exit_code == 0 ? std::stoll(r.out) : -1;
  }

 private:
  std::vector<std::string> ns_, veth_, made_;
  std::string error_;
};

TEST(DistTwoHosts, RanksOnTwoAddressesTrainAsOneProcessOfTheirGlobalBatch) {
  if (::geteuid() != 0) GTEST_SKIP() << "network namespaces need root";
  TwoHosts hosts;
  if (!hosts.error().empty()) GTEST_SKIP() << "cannot make network namespaces: " << hosts.error();
  const std::string dir = temp_dir("dist_two_hosts");
  write_copy_task(dir, 96, 30);
  ASSERT_EQ(run_job({tiny_run(dir, dir + "/single", 16, 2)}, dir), std::vector<int>{0});

  // Rank 0 hosts the store on host 0's address; rank 1 reaches it from the other namespace.
  const int port = free_port();
  std::vector<pid_t> ranks;
  for (int rank = 0; rank < 2; ++rank) {
    auto args = as_rank(tiny_run(dir, dir + "/dp", 8, 2), rank, 2, port);
    for (auto& a : args) {
      if (a.rfind("tcp://", 0) == 0) a = "tcp://" + hosts.address(0) + ":" + std::to_string(port);
    }
    ranks.push_back(
        s2s::test::spawn_cli(args, dir + "/host" + std::to_string(rank) + ".log", hosts.on(rank)));
  }
  EXPECT_EQ(exit_within(ranks[0]), 0) << read_text(dir + "/host0.log");
  EXPECT_EQ(exit_within(ranks[1]), 0) << read_text(dir + "/host1.log");
  expect_same_training(dir + "/single", dir + "/dp");
  // The gradients crossed the pair: 12 steps' all-reduces of the tiny model's ~20 kB of
  // gradients bring each rank ~240 kB, far more than the handshakes alone.
  EXPECT_GT(hosts.received_bytes(0), 100000);
  EXPECT_GT(hosts.received_bytes(1), 100000);
}

}  // namespace
