// Fuzzes the checkpoint loader (s2s::load_checkpoint, src/train/checkpoint.cpp): the input is
// written to a file, which is loaded as `s2s eval --model FILE` would.
// Checks: only s2s::Error escapes (torch's own errors must be turned into one-line messages
// naming the file); the sanitizers watch the rest. Seeds: a format-1 file (records without a
// checksum, so mutations reach the records) and a format-2 file (the checksummed envelope).
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "fuzz_check.h"
#include "s2s/checkpoint.h"
#include "s2s/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/s2s-fuzz-checkpoint-" + std::to_string(::getpid()) + ".pt";
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    const s2s::LoadedCheckpoint loaded = s2s::load_checkpoint(path);
    S2S_FUZZ_REQUIRE(loaded.vocab.size() >= 4);
  } catch (const s2s::Error& e) {
    const std::string message = e.what();
    S2S_FUZZ_REQUIRE(message.rfind(path + ": ", 0) == 0);
  }
  return 0;
}
