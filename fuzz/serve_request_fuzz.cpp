// Fuzzes the body of `s2s serve`'s POST /v1/models/NAME/translate (parse_translate_request,
// src/serve/translate_api.cpp): every request body reaches it before any model does.
// Checks: only RequestError escapes, always with a 4xx status; an accepted request respects
// every limit (inputs, tokens, n_best, timeout) and its tokens are non-empty and hold no
// whitespace; its answer renders to JSON that parses again.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_check.h"
#include "serve/translate_api.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  s2s::serve::RequestLimits limits;
  limits.max_inputs = 8;
  limits.max_input_tokens = 16;
  limits.max_n_best = 4;
  limits.default_timeout_ms = 1000;
  limits.max_timeout_ms = 5000;
  s2s::serve::TranslateRequest request;
  try {
    request = s2s::serve::parse_translate_request(body, limits);
  } catch (const s2s::serve::RequestError& e) {
    S2S_FUZZ_REQUIRE(e.status() >= 400 && e.status() < 500);
    S2S_FUZZ_REQUIRE(std::string(e.what()).size() > 0);
    return 0;
  }
  S2S_FUZZ_REQUIRE(!request.sources.empty());
  S2S_FUZZ_REQUIRE(static_cast<int64_t>(request.sources.size()) <= limits.max_inputs);
  S2S_FUZZ_REQUIRE(request.n_best >= 1 && request.n_best <= limits.max_n_best);
  S2S_FUZZ_REQUIRE(request.timeout_ms >= 1 && request.timeout_ms <= limits.max_timeout_ms);
  std::vector<std::vector<s2s::Prediction>> results;
  std::vector<int64_t> unknown;
  for (const auto& tokens : request.sources) {
    S2S_FUZZ_REQUIRE(!tokens.empty());
    S2S_FUZZ_REQUIRE(static_cast<int64_t>(tokens.size()) <= limits.max_input_tokens);
    for (const auto& t : tokens) {
      S2S_FUZZ_REQUIRE(!t.empty() && t.find_first_of(" \t\r\n\f\v") == std::string::npos);
    }
    results.push_back({{tokens, -1.0, -1.0, true}});  // echo the tokens as the "output"
    unknown.push_back(0);
  }
  const std::string answer = s2s::serve::translate_response("m", request, results, unknown);
  const auto parsed = nlohmann::json::parse(answer, nullptr, /*allow_exceptions=*/false);
  S2S_FUZZ_REQUIRE(parsed.is_object() && parsed["outputs"].size() == request.sources.size());
  return 0;
}
