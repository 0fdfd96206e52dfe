// Checkpoints: one file holding weights, optimizer state, epoch, torch's RNG state, the
// vocabulary and the run's configuration. Written atomically (temp file beside it, fsync,
// rename), so a crash at any moment leaves either the old or the new file, never half of one.
// Every record is covered by a CRC-32 checked on each load: a file with a damaged byte is
// rejected ("FILE: checksum mismatch (corrupt or modified)"), never loaded as a quietly different
// model. A file that is truncated, corrupt, of another kind, or whose vocabulary does not fit its
// weights is rejected with one s2s::Error line naming the file. Checkpoints written before the
// checksum existed (format 1) still load, with a note on stderr that they are unverified.
#pragma once

#include <cstdint>
#include <string>

#include "s2s/run_record.h"
#include "s2s/seq2seq.h"
#include "s2s/vocab.h"

namespace torch::optim {
class Optimizer;
}

namespace s2s {

struct CheckpointMeta {
  int64_t epoch = 0;        // epochs completed
  std::string config_json;  // the run's effective configuration (TrainConfig::to_json)
  std::string state_json;   // the trainer's resumable state (position, tallies, best so far)
};

// Saves model, vocabulary, meta, torch's global RNG state and (if given) the optimizer's state.
void save_checkpoint(const std::string& path, Seq2Seq& model, const Vocab& vocab,
                     const CheckpointMeta& meta, torch::optim::Optimizer* optimizer = nullptr);

// Memory kept from one save to the next by a caller that saves often (the trainer, each epoch).
// The checkpoint's records are assembled in memory before the file is written (the file stores
// their checksum ahead of them). A course checkpoint's 38 MB is over glibc's largest mmap
// threshold (32 MiB), so a buffer made anew takes fresh pages from the kernel on every save, a
// page fault per 4 KiB; measured on the development VM, a reused one halves a course save.
struct CheckpointBuffer {
  std::string records;
};

// The same checkpoint under several names, in order, its bytes written once (write_file_atomic).
// `buffer`, if given, is reused for the records. `trained`, if given: the weights training goes
// on from, one per model parameter in order, where they differ from the model's (with weight
// smoothing the model's are the smoothed weights, what evaluation reads); a resume reads them
// back (restore_training_state).
void save_checkpoint(const std::vector<std::string>& paths, Seq2Seq& model, const Vocab& vocab,
                     const CheckpointMeta& meta, torch::optim::Optimizer* optimizer = nullptr,
                     CheckpointBuffer* buffer = nullptr,
                     const std::vector<at::Tensor>* trained = nullptr);

struct LoadedCheckpoint {
  Seq2Seq model{nullptr};  // built from the configuration, weights loaded, in eval() mode
  Vocab vocab;
  CheckpointMeta meta;
  bool verified = false;  // its checksum matched; false only for format-1 files (no checksum)
};

// Loads a checkpoint written by save_checkpoint; impl and precision choose which code runs the
// RNNs and how (the stored weights are f32 whatever precision trained them).
LoadedCheckpoint load_checkpoint(const std::string& path, RnnImpl impl = RnnImpl::OneDNN,
                                 Precision precision = Precision::F32);

// Restores the optimizer's state and torch's RNG state from a checkpoint, to resume training.
// With `model` (the one load_checkpoint built from it), the trained weights the checkpoint holds
// apart from the model's, if any, are copied into it; returns whether there were any.
bool restore_training_state(const std::string& path, torch::optim::Optimizer& optimizer,
                            Seq2Seq* model = nullptr);

// The model a run's configuration describes: the one place TrainConfig's model fields become
// Seq2SeqOptions (cell, sizes, dropout, implementation, precision, attention, input feeding,
// bidirectional; configurations from before attention have none of the last three: the
// course's model).
Seq2SeqOptions model_options(const TrainConfig& config, int64_t vocab_size);

// The same from a configuration's JSON (a checkpoint's); keys that are not settings are
// skipped. Throws s2s::Error naming `source` for a bad value.
Seq2SeqOptions model_options_from_config(const std::string& config_json, int64_t vocab_size,
                                         const std::string& source);

}  // namespace s2s
