// TrainConfig's settings one at a time, described from the one list of fields
// (run/config_fields.h): their keys, flags and kinds, and text <-> value as `s2s train`'s flags
// take them. `s2s experiment` builds its grid axes and its children's flags from this.
#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <type_traits>

#include "run/config_fields.h"
#include "s2s/error.h"
#include "s2s/run_record.h"

namespace s2s {
namespace {

using Kind = TrainSetting::Kind;

template <class T>
constexpr Kind kind_of() {
  if constexpr (std::is_same_v<T, std::string>) return Kind::Path;
  if constexpr (std::is_same_v<T, bool>) return Kind::Bool;
  if constexpr (std::is_enum_v<T>) return Kind::Choice;
  if constexpr (std::is_integral_v<T>) return Kind::Int;
  return Kind::Real;
}

template <class T>
std::string text_of(const T& value) {
  if constexpr (std::is_same_v<T, std::string>) {
    return value;
  } else if constexpr (std::is_same_v<T, bool>) {
    return value ? "true" : "false";
  } else if constexpr (std::is_enum_v<T>) {
    return to_string(value);
  } else if constexpr (std::is_integral_v<T>) {
    return std::to_string(value);
  } else {
    return fmt::format("{}", value + 0.0);  // shortest round-trip form; -0 -> 0
  }
}

// An enum read as config.json reads it: through its parser (a bad word is the parser's error).
template <class E>
E parse_enum(const std::string& text) {
  E value{};
  from_json(nlohmann::json(text), value);
  return value;
}

// The enum's words: every value whose text reads back as that value, so the list follows the
// enum's parser and to_string, its one description.
template <class E>
std::vector<std::string> choices_of() {
  std::vector<std::string> words;
  for (int i = 0; i < 64; ++i) {
    const E value = static_cast<E>(i);
    const std::string word = to_string(value);
    try {
      if (parse_enum<E>(word) == value) words.push_back(word);
    } catch (const Error&) {
    }
  }
  return words;
}

template <class T>
void parse_text(const std::string& key, const std::string& text, T& out) {
  if constexpr (std::is_same_v<T, std::string>) {
    out = text;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (text != "true" && text != "false")
      throw Error(fmt::format("{} must be true or false, got '{}'", key, text));
    out = text == "true";
  } else if constexpr (std::is_enum_v<T>) {
    out = parse_enum<T>(text);
  } else if constexpr (std::is_integral_v<T>) {
    char* end = nullptr;
    errno = 0;
    const long long n = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE)
      throw Error(fmt::format("{} must be a whole number, got '{}'", key, text));
    out = static_cast<T>(n);
  } else {
    char* end = nullptr;
    errno = 0;
    const double x = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(x))
      throw Error(fmt::format("{} must be a number, got '{}'", key, text));
    out = x;
  }
}

// The `s2s train` flag of a key: the key with dashes, but for two settings.
std::string flag_for(const std::string& key) {
  if (key == "ranks") return "";           // written by the trainer, not a flag
  if (key == "impl") return "--rnn-impl";  // the flag says what it chooses
  std::string flag = "--" + key;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

template <class T>
TrainSetting describe(const char* key, const T& default_value) {
  TrainSetting s;
  s.key = key;
  s.flag = flag_for(key);
  s.kind = kind_of<T>();
  if constexpr (std::is_enum_v<T>) s.choices = choices_of<T>();
  s.default_value = text_of(default_value);
  return s;
}

}  // namespace

std::vector<std::string> TrainSetting::flag_args(const std::string& value) const {
  if (kind == Kind::Bool) return {value == "true" ? flag : flag + "=false"};
  return {flag, value};
}

const std::vector<TrainSetting>& train_settings() {
  static const std::vector<TrainSetting> settings = [] {
    const TrainConfig defaults;
    std::vector<TrainSetting> all;
#define S2S_DESCRIBE(name) all.push_back(describe(#name, defaults.name));
    S2S_CONFIG_FIELDS(S2S_DESCRIBE)
#undef S2S_DESCRIBE
    return all;
  }();
  return settings;
}

const TrainSetting* find_train_setting(const std::string& name) {
  std::string key = name.rfind("--", 0) == 0 ? name.substr(2) : name;
  std::replace(key.begin(), key.end(), '-', '_');
  std::string flag = "--" + key;
  std::replace(flag.begin(), flag.end(), '_', '-');
  for (const TrainSetting& s : train_settings())
    if (key == s.key || flag == s.flag) return &s;
  return nullptr;
}

std::string setting_text(const TrainConfig& config, const std::string& key) {
#define S2S_TEXT(name) \
  if (key == #name) return text_of(config.name);
  S2S_CONFIG_FIELDS(S2S_TEXT)
#undef S2S_TEXT
  throw Error("unknown setting '" + key + "'");
}

void set_setting(TrainConfig& config, const std::string& key, const std::string& value) {
#define S2S_SET(name)                    \
  if (key == #name) {                    \
    parse_text(key, value, config.name); \
    return;                              \
  }
  S2S_CONFIG_FIELDS(S2S_SET)
#undef S2S_SET
  throw Error("unknown setting '" + key + "'");
}

}  // namespace s2s
