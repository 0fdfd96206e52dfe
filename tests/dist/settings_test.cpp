// DistSettings from torchrun's variables and the flags that override them.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "s2s/distributed.h"
#include "s2s/error.h"

namespace {

using s2s::DistFlags;
using s2s::DistSettings;
using s2s::Rendezvous;

DistSettings resolve(const DistFlags& flags, const std::map<std::string, std::string>& env) {
  return s2s::resolve_dist_settings(flags, [&env](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

std::string error_of(const DistFlags& flags, const std::map<std::string, std::string>& env) {
  try {
    resolve(flags, env);
  } catch (const s2s::Error& e) {
    return e.what();
  }
  return "";
}

TEST(DistSettings, AloneWithoutEnvironmentOrFlags) {
  const DistSettings s = resolve({}, {});
  EXPECT_FALSE(s.distributed());
  EXPECT_EQ(s.world_size, 1);
  EXPECT_EQ(s.rank, 0);
  EXPECT_EQ(s.host, "127.0.0.1");
  EXPECT_EQ(s.port, 29500);
  EXPECT_EQ(s.timeout.count(), 30000);
}

TEST(DistSettings, ReadsTorchrunVariables) {
  const DistSettings s = resolve({}, {{"WORLD_SIZE", "4"},
                                      {"RANK", "3"},
                                      {"LOCAL_RANK", "1"},
                                      {"LOCAL_WORLD_SIZE", "2"},
                                      {"MASTER_ADDR", "10.0.0.1"},
                                      {"MASTER_PORT", "29400"},
                                      {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                                      {"TORCHELASTIC_RESTART_COUNT", "2"},
                                      {"GLOO_SOCKET_IFNAME", "eth1"}});
  EXPECT_TRUE(s.distributed());
  EXPECT_EQ(s.world_size, 4);
  EXPECT_EQ(s.rank, 3);
  EXPECT_EQ(s.local_rank, 1);
  EXPECT_EQ(s.local_world_size, 2);
  EXPECT_EQ(s.rendezvous, Rendezvous::Tcp);
  EXPECT_EQ(s.host, "10.0.0.1");
  EXPECT_EQ(s.port, 29400);
  EXPECT_TRUE(s.agent_store);
  EXPECT_EQ(s.restart_count, 2);
  EXPECT_EQ(s.socket_interface, "eth1");
}

TEST(DistSettings, FlagsOverrideTheEnvironment) {
  DistFlags flags;
  flags.world_size = 2;
  flags.rank = 1;
  flags.init = "tcp://[::1]:1234";
  flags.timeout_seconds = 2.5;
  const DistSettings s = resolve(
      flags, {{"WORLD_SIZE", "8"}, {"RANK", "5"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"}});
  EXPECT_EQ(s.world_size, 2);
  EXPECT_EQ(s.rank, 1);
  EXPECT_EQ(s.local_rank, 1);
  EXPECT_EQ(s.local_world_size, 2);  // not given: the whole world is on this machine
  EXPECT_EQ(s.host, "::1");
  EXPECT_EQ(s.port, 1234);
  EXPECT_FALSE(s.agent_store);  // an explicit --init is our own store
  EXPECT_EQ(s.timeout.count(), 2500);
}

TEST(DistSettings, FileRendezvous) {
  DistFlags flags;
  flags.init = "file:///tmp/job/rendezvous";
  const DistSettings s = resolve(flags, {});
  EXPECT_EQ(s.rendezvous, Rendezvous::File);
  EXPECT_EQ(s.path, "/tmp/job/rendezvous");
}

TEST(DistSettings, BadValuesAreErrorsNamingTheFlagOrVariable) {
  DistFlags init;
  init.init = "udp://host:1";
  EXPECT_NE(error_of(init, {}).find("--init udp://host:1: expected tcp://HOST:PORT"),
            std::string::npos);
  init.init = "tcp://host:99999";
  EXPECT_NE(error_of(init, {}).find("port: '99999' is not an integer in [1, 65535]"),
            std::string::npos);
  init.init = "file://relative";
  EXPECT_NE(error_of(init, {}).find("file:///absolute/path"), std::string::npos);
  EXPECT_EQ(error_of({}, {{"WORLD_SIZE", "two"}}),
            "WORLD_SIZE: 'two' is not an integer in [1, 65536]");
  EXPECT_EQ(error_of({}, {{"WORLD_SIZE", "2"}, {"RANK", "2"}}),
            "rank 2 is outside a world of 2 (--rank/RANK must be below --world-size/WORLD_SIZE)");
  DistFlags timeout;
  timeout.timeout_seconds = 0;
  EXPECT_EQ(error_of(timeout, {}), "--dist-timeout must be a positive number of seconds");
}

TEST(DistSettings, ThreadsShareTheCoresOfTheMachine) {
  DistSettings s;
  s.local_world_size = 1 << 16;
  EXPECT_EQ(s2s::threads_per_rank(s), 1);
  s.local_world_size = 1;
  EXPECT_GE(s2s::threads_per_rank(s), 1);
}

}  // namespace
