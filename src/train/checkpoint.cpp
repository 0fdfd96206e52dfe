#include "s2s/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>

#include <fmt/core.h>
#include <zlib.h>

#include <exception>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "s2s/error.h"
#include "s2s/file_io.h"
#include "train/zip_crc.h"

namespace s2s {
namespace {

constexpr const char* kKind = "s2s-checkpoint";
// Version 1: the records (metadata, weights, optimizer, RNG) stand in the file itself.
// Version 2: the same records serialized into one payload that the file holds with its CRC-32,
// so that a damaged byte anywhere in them is found on load. LibTorch's own archive reader does
// not check the CRCs of the zip it reads: flipped bytes inside tensor data load silently.
constexpr int64_t kRecordsVersion = 1;
constexpr int64_t kEnvelopeVersion = 2;
// The weights training goes on from, where they are not the model's (weight smoothing).
constexpr const char* kTrainedWeights = "trained_weights";

// The trained weights' keys: the model's parameters by position (their names hold dots).
std::string trained_key(size_t position) {
  return "p" + std::to_string(position);
}

uint32_t crc32_of(const void* data, size_t size) {
  return static_cast<uint32_t>(crc32_z(0L, static_cast<const Bytef*>(data), size));
}

std::string read_string(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toStringRef();
}

}  // namespace

Seq2SeqOptions model_options(const TrainConfig& config, int64_t vocab_size) {
  return Seq2SeqOptions(vocab_size)
      .cell(config.cell)
      .hidden(config.hidden)
      .layers(config.layers)
      .dropout(config.dropout)
      .impl(config.impl)
      .precision(config.precision)
      .attention(config.attention)
      .input_feeding(config.input_feeding)
      .bidirectional(config.bidirectional)
      .bidirectional_merge(config.bidirectional_merge);
}

Seq2SeqOptions model_options_from_config(const std::string& config_json, int64_t vocab_size,
                                         const std::string& source) {
  const TrainConfig config =
      TrainConfig::from_json(config_json, source, /*skip_unknown_keys=*/true);
  try {
    config.validate_settings();
  } catch (const Error& e) {
    throw Error(source + ": stored configuration: " + e.what());
  }
  return model_options(config, vocab_size);
}

void save_checkpoint(const std::string& path, Seq2Seq& model, const Vocab& vocab,
                     const CheckpointMeta& meta, torch::optim::Optimizer* optimizer) {
  save_checkpoint(std::vector<std::string>{path}, model, vocab, meta, optimizer);
}

void save_checkpoint(const std::vector<std::string>& paths, Seq2Seq& model, const Vocab& vocab,
                     const CheckpointMeta& meta, torch::optim::Optimizer* optimizer,
                     CheckpointBuffer* buffer, const std::vector<at::Tensor>* trained) {
  torch::serialize::OutputArchive archive;
  archive.write("kind", c10::IValue(std::string(kKind)));
  archive.write("format_version", c10::IValue(kRecordsVersion));
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
  if (trained) {
    const size_t count = model->parameters().size();
    if (trained->size() != count) {
      throw Error(fmt::format("save_checkpoint: {} trained weights for a model of {} parameters",
                              trained->size(), count));
    }
    torch::serialize::OutputArchive weights;
    for (size_t k = 0; k < count; ++k) weights.write(trained_key(k), (*trained)[k]);
    archive.write(kTrainedWeights, weights);
  }
  auto generator = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    archive.write("rng", generator.get_state());
  }
  CheckpointBuffer own;
  std::string& payload = (buffer ? *buffer : own).records;
  payload.clear();  // its capacity stays
  archive.save_to([&payload](const void* data, size_t size) {
    payload.append(static_cast<const char*>(data), size);
    return size;
  });
  torch::serialize::OutputArchive envelope;
  envelope.write("kind", c10::IValue(std::string(kKind)));
  envelope.write("format_version", c10::IValue(kEnvelopeVersion));
  envelope.write("payload_crc32",
                 c10::IValue(static_cast<int64_t>(crc32_of(payload.data(), payload.size()))));
  envelope.write("payload",
                 at::from_blob(payload.data(), {static_cast<int64_t>(payload.size())}, at::kByte));
  // The envelope goes straight to the file, not through one more buffer of its size.
  write_file_atomic(paths, [&envelope](const ByteSink& sink) {
    // The sink's first error is kept and the rest skipped, while LibTorch's writer is told every
    // write succeeded: on a failed write it throws, and its destructor then throws again while
    // finishing the archive, which would end the process.
    std::exception_ptr failed;
    envelope.save_to([&](const void* data, size_t size) {
      if (!failed) {
        try {
          sink(data, size);
        } catch (...) {
          failed = std::current_exception();
        }
      }
      return size;
    });
    if (failed) std::rethrow_exception(failed);
  });
}

namespace {

struct OpenedArchive {
  torch::serialize::InputArchive records;
  bool verified = false;  // false: a version-1 file, written before checkpoints had a checksum
  uint64_t file_bytes = 0;
};

int64_t read_int(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toInt();
}

// Opens a checkpoint and returns its records, after checking the zip entries' CRC-32s (before
// torch parses anything: its parser crashes on some damaged files) and the payload's CRC-32.
OpenedArchive open_archive(const std::string& path) {
  std::ifstream probe(path, std::ios::binary);
  if (!probe) throw Error(path + ": cannot open checkpoint");
  probe.close();
  const std::string bytes = read_file(path);
  verify_zip_crcs(bytes, path);
  OpenedArchive out;
  out.file_bytes = bytes.size();
  torch::serialize::InputArchive file;
  try {
    file.load_from(bytes.data(), bytes.size());
  } catch (const std::exception&) {
    throw Error(path + ": not a readable s2s checkpoint (truncated, corrupt or another format)");
  }
  std::string kind;
  try {
    kind = read_string(file, "kind");
  } catch (const std::exception&) {
    throw Error(path + ": not an s2s checkpoint (no 'kind' record)");
  }
  if (kind != kKind) throw Error(path + ": is a '" + kind + "' file, not an s2s checkpoint");
  int64_t version = 0;
  try {
    version = read_int(file, "format_version");
  } catch (const std::exception&) {
    throw Error(path + ": checkpoint is missing its metadata records");
  }
  if (version == kRecordsVersion) {
    out.records = std::move(file);
    return out;
  }
  if (version != kEnvelopeVersion) {
    throw Error(path + ": checkpoint format " + std::to_string(version) +
                " is not supported (expected " + std::to_string(kEnvelopeVersion) + " or " +
                std::to_string(kRecordsVersion) + ")");
  }
  at::Tensor payload;
  int64_t expected = -1;
  try {
    expected = read_int(file, "payload_crc32");
    file.read("payload", payload);
  } catch (const std::exception&) {
    throw Error(path + ": not a readable s2s checkpoint (truncated, corrupt or another format)");
  }
  if (payload.scalar_type() != at::kByte || payload.dim() != 1 || !payload.is_contiguous() ||
      crc32_of(payload.data_ptr(), static_cast<size_t>(payload.numel())) != expected) {
    throw Error(path + ": checksum mismatch (corrupt or modified)");
  }
  try {
    out.records.load_from(static_cast<const char*>(payload.data_ptr()),
                          static_cast<size_t>(payload.numel()));
  } catch (const std::exception&) {
    throw Error(path + ": not a readable s2s checkpoint (its records are not an archive)");
  }
  out.verified = true;
  return out;
}

}  // namespace

LoadedCheckpoint load_checkpoint(const std::string& path, RnnImpl impl, Precision precision) {
  OpenedArchive opened = open_archive(path);
  torch::serialize::InputArchive& archive = opened.records;
  LoadedCheckpoint out;
  out.verified = opened.verified;
  if (!opened.verified) {
    std::cerr << "s2s: note: " << path
              << ": written before checkpoints carried a checksum; loaded unverified\n";
  }
  try {
    if (read_int(archive, "format_version") != kRecordsVersion) {
      throw Error(path + ": checkpoint records of an unknown version");
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
  const Seq2SeqOptions options =
      model_options_from_config(out.meta.config_json, out.vocab.size(), path)
          .impl(impl)
          .precision(precision);
  // The f32 weights are in the file: a configuration (or vocabulary) that needs more than the
  // whole file is damage, refused before anything that size is allocated.
  const int64_t weight_count = parameter_count(options);
  if (static_cast<uint64_t>(weight_count) > opened.file_bytes / sizeof(float)) {
    throw Error(fmt::format(
        "{}: its configuration (vocabulary {}, hidden {}, layers {}) needs {} weights, more "
        "than the whole file of {} bytes holds (corrupt or modified)",
        path, options.vocab_size(), options.hidden(), options.layers(), weight_count,
        opened.file_bytes));
  }
  out.model = Seq2Seq(options);
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

bool restore_training_state(const std::string& path, torch::optim::Optimizer& optimizer,
                            Seq2Seq* model) {
  torch::serialize::InputArchive archive = open_archive(path).records;
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
  torch::serialize::InputArchive weights;
  if (!model || !archive.try_read(kTrainedWeights, weights)) return false;
  at::NoGradGuard no_grad;
  const auto params = (*model)->named_parameters();
  for (size_t k = 0; k < params.size(); ++k) {
    const auto& p = params[k];
    at::Tensor stored;
    if (!weights.try_read(trained_key(k), stored) || !stored.sizes().equals(p.value().sizes())) {
      throw Error(path + ": its trained weights do not fit the model (" + p.key() + ")");
    }
    p.value().copy_(stored);
  }
  return true;
}

}  // namespace s2s
