// Fuzzes the vocabulary JSON that `s2s import` reads (Vocab::from_json in src/data/vocab.cpp).
// Checks: only s2s::Error escapes, with a one-line message; an accepted vocabulary writes back
// (to_json) to JSON that reads to the same tokens.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "s2s/error.h"
#include "s2s/vocab.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  s2s::Vocab vocab;
  try {
    vocab = s2s::Vocab::from_json(text, "vocab.json");
  } catch (const s2s::Error& e) {
    S2S_FUZZ_REQUIRE(std::string(e.what()).rfind("vocab.json: ", 0) == 0);
    return 0;
  }
  const s2s::Vocab again = s2s::Vocab::from_json(vocab.to_json(), "again");
  S2S_FUZZ_REQUIRE(again.tokens() == vocab.tokens());
  return 0;
}
