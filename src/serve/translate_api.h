// The body of POST /v1/models/NAME/translate, in and out. Parsing is strict (wrong types,
// unknown keys and values out of range are refused with a message naming the field), so a
// typo never silently becomes a default. No HTTP and no model here: the fuzz target and the
// tests call these directly.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "s2s/decode.h"

namespace s2s::serve {

struct RequestLimits {
  int64_t max_inputs = 256;
  int64_t max_input_tokens = 256;
  int64_t max_n_best = 1;  // the server's beam
  int64_t default_timeout_ms = 10000;
  int64_t max_timeout_ms = 600000;
};

struct TranslateRequest {
  std::vector<std::vector<std::string>> sources;  // each input split at whitespace
  int64_t n_best = 1;
  bool return_scores = false;
  int64_t timeout_ms = 0;
};

// A request the server refuses: the HTTP status and the message of its {"error": ...} body.
class RequestError : public std::runtime_error {
 public:
  RequestError(int status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// Throws RequestError (400) for malformed JSON, a body that is not an object, a missing, empty
// or non-array "inputs", an input that is not a string or has no tokens, more than max_inputs
// inputs or more than max_input_tokens tokens in one, an unknown key, and n_best, return_scores
// or timeout_ms of the wrong type or out of range.
TranslateRequest parse_translate_request(std::string_view body, const RequestLimits& limits);

// {"model", "outputs", "unknown_tokens", "scores"?, "hypotheses"?} (see s2s/serve.h).
std::string translate_response(const std::string& model, const TranslateRequest& request,
                               const std::vector<std::vector<Prediction>>& results,
                               const std::vector<int64_t>& unknown_tokens);

// {"error": message}, for every refusal.
std::string error_body(const std::string& message);

}  // namespace s2s::serve
