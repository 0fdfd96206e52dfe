#include "s2s/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "s2s/error.h"
#include "s2s/file_io.h"

namespace s2s {
namespace {

constexpr const char* kKind = "s2s-checkpoint";
constexpr int64_t kFormatVersion = 1;

std::string read_string(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toStringRef();
}

}  // namespace

Seq2SeqOptions model_options_from_config(const std::string& config_json, int64_t vocab_size,
                                         const std::string& source) {
  try {
    const auto j = nlohmann::json::parse(config_json);
    return Seq2SeqOptions(vocab_size)
        .cell(parse_cell(j.at("cell").get<std::string>()))
        .hidden(j.at("hidden").get<int64_t>())
        .layers(j.at("layers").get<int64_t>())
        .dropout(j.at("dropout").get<double>())
        // Checkpoints from before attention have none of these keys: the course's model.
        .attention(parse_attention(j.value("attention", std::string("none"))))
        .input_feeding(j.value("input_feeding", false))
        .bidirectional(j.value("bidirectional", false));
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": bad model configuration: " + e.what());
  }
}

void save_checkpoint(const std::string& path, Seq2Seq& model, const Vocab& vocab,
                     const CheckpointMeta& meta, torch::optim::Optimizer* optimizer) {
  torch::serialize::OutputArchive archive;
  archive.write("kind", c10::IValue(std::string(kKind)));
  archive.write("format_version", c10::IValue(kFormatVersion));
  archive.write("epoch", c10::IValue(meta.epoch));
  archive.write("config", c10::IValue(meta.config_json));
  archive.write("state", c10::IValue(meta.state_json));
  archive.write("vocab", c10::IValue(vocab.to_json()));
  torch::serialize::OutputArchive weights;
  model->save(weights);
  archive.write("model", weights);
  if (optimizer) {
    torch::serialize::OutputArchive opt;
    optimizer->save(opt);
    archive.write("optimizer", opt);
  }
  auto generator = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    archive.write("rng", generator.get_state());
  }
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_file_atomic(path, bytes.str());
}

namespace {

torch::serialize::InputArchive open_archive(const std::string& path) {
  std::ifstream probe(path, std::ios::binary);
  if (!probe) throw Error(path + ": cannot open checkpoint");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const std::exception&) {
    throw Error(path + ": not a readable s2s checkpoint (truncated, corrupt or another format)");
  }
  std::string kind;
  try {
    kind = read_string(archive, "kind");
  } catch (const std::exception&) {
    throw Error(path + ": not an s2s checkpoint (no 'kind' record)");
  }
  if (kind != kKind) throw Error(path + ": is a '" + kind + "' file, not an s2s checkpoint");
  return archive;
}

}  // namespace

LoadedCheckpoint load_checkpoint(const std::string& path, RnnImpl impl, Precision precision) {
  auto archive = open_archive(path);
  LoadedCheckpoint out;
  try {
    c10::IValue version;
    archive.read("format_version", version);
    if (version.toInt() != kFormatVersion) {
      throw Error(path + ": checkpoint format " + std::to_string(version.toInt()) +
                  " is not supported (expected " + std::to_string(kFormatVersion) + ")");
    }
    c10::IValue epoch;
    archive.read("epoch", epoch);
    out.meta.epoch = epoch.toInt();
    out.meta.config_json = read_string(archive, "config");
    out.meta.state_json = read_string(archive, "state");
    out.vocab = Vocab::from_json(read_string(archive, "vocab"), path);
  } catch (const Error&) {
    throw;
  } catch (const std::exception&) {
    throw Error(path + ": checkpoint is missing its metadata records");
  }
  out.model = Seq2Seq(model_options_from_config(out.meta.config_json, out.vocab.size(), path)
                          .impl(impl)
                          .precision(precision));
  // Module::load would silently take on the stored shapes: compare them to the configuration.
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  for (const auto& p : out.model->named_parameters()) {
    expected.emplace_back(p.key(), p.value().sizes().vec());
  }
  torch::serialize::InputArchive weights;
  try {
    archive.read("model", weights);
    out.model->load(weights);
  } catch (const std::exception& e) {
    // The usual cause: a vocabulary or configuration that does not fit the stored weights.
    std::string why = e.what();
    why = why.substr(0, why.find('\n'));
    throw Error(path + ": weights do not fit the stored vocabulary/configuration: " + why);
  }
  for (const auto& [name, shape] : expected) {
    const auto actual = out.model->named_parameters()[name].sizes().vec();
    if (actual != shape) {
      throw Error(path + ": weights do not fit the stored vocabulary/configuration: " + name +
                  " has shape " + c10::str(c10::IntArrayRef(actual)) + ", expected " +
                  c10::str(c10::IntArrayRef(shape)));
    }
  }
  out.model->eval();
  return out;
}

void restore_training_state(const std::string& path, torch::optim::Optimizer& optimizer) {
  auto archive = open_archive(path);
  try {
    torch::serialize::InputArchive opt;
    archive.read("optimizer", opt);
    optimizer.load(opt);
    at::Tensor rng;
    archive.read("rng", rng);
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(rng);
  } catch (const std::exception& e) {
    std::string why = e.what();
    throw Error(path + ": cannot restore optimizer/RNG state: " + why.substr(0, why.find('\n')));
  }
}

}  // namespace s2s
