// Helpers for distributed tests: a free port on 127.0.0.1, and ranks of one job run as threads
// of the test process (c10d and Gloo do not mind: each rank has its own sockets).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "s2s/distributed.h"

namespace s2s::testing {

// A port nothing listens on right now (the kernel's pick), for one test's rendezvous.
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t length = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline DistSettings local_settings(int world, int rank, int port, double timeout_seconds = 20) {
  DistSettings s;
  s.world_size = world;
  s.rank = rank;
  s.local_rank = rank;
  s.local_world_size = world;
  s.port = port;
  s.timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000));
  return s;
}

// Runs body(rank, group) for every rank of a `world`-rank job in its own thread; returns each
// rank's error message ("" when it succeeded).
inline std::vector<std::string> run_ranks(int world,
                                          const std::function<void(int, ProcessGroup&)>& body) {
  const int port = free_port();
  std::vector<std::string> errors(static_cast<size_t>(world));
  std::vector<std::thread> threads;
  for (int rank = 0; rank < world; ++rank) {
    threads.emplace_back([&, rank] {
      try {
        auto group = ProcessGroup::connect(local_settings(world, rank, port));
        body(rank, *group);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(rank)] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  return errors;
}

}  // namespace s2s::testing
