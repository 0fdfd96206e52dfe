#include "train/run_state.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "s2s/error.h"

namespace s2s {
namespace {

using nlohmann::json;

json tally_json(const Tally& t) {
  return json::parse(t.to_json());
}

// Checkpoints before this version stored the tally as a JSON string inside the JSON.
Tally tally_from(const json& j) {
  return Tally::from_json(j.is_string() ? j.get<std::string>() : j.dump());
}

}  // namespace

std::string RunState::to_json() const {
  const ScheduleState& s = schedule;
  return json{{"epoch", epoch},
              {"step", step},
              {"partial", tally_json(partial)},
              {"partial_seconds", partial_seconds},
              {"elapsed_seconds", elapsed_seconds},
              {"lr", s.lr},
              {"lr_cut_epoch", s.lr_cut_epoch},
              {"best_epoch", s.best_epoch},
              {"best_valid_seq_acc", s.best_valid_seq_acc},
              {"best_valid_loss", s.best_valid_loss},
              {"min_loss_epoch", s.min_loss_epoch},
              {"min_valid_loss", s.min_valid_loss},
              {"planned_epochs", s.planned_epochs},
              {"window", tally_json(window)},
              {"window_seconds", window_seconds}}
      .dump();
}

RunState RunState::from_json(const std::string& text, const std::string& source) {
  try {
    const auto j = json::parse(text);
    RunState r;
    ScheduleState& s = r.schedule;
    r.epoch = j.at("epoch").get<int64_t>();
    r.step = j.at("step").get<int64_t>();
    r.partial = tally_from(j.at("partial"));
    r.partial_seconds = j.at("partial_seconds").get<double>();
    r.elapsed_seconds = j.at("elapsed_seconds").get<double>();
    s.lr = j.at("lr").get<double>();
    s.lr_cut_epoch = j.value("lr_cut_epoch", int64_t{0});
    s.best_epoch = j.at("best_epoch").get<int64_t>();
    s.best_valid_seq_acc = j.at("best_valid_seq_acc").get<double>();
    s.best_valid_loss = j.at("best_valid_loss").get<double>();
    s.min_loss_epoch = j.at("min_loss_epoch").get<int64_t>();
    s.min_valid_loss = j.at("min_valid_loss").get<double>();
    s.planned_epochs = j.value("planned_epochs", int64_t{0});
    if (j.contains("window")) r.window = tally_from(j.at("window"));
    r.window_seconds = j.value("window_seconds", 0.0);
    return r;
  } catch (const json::exception& e) {
    throw Error(source + ": checkpoint has no resumable training state (" + e.what() + ")");
  }
}

Checkpointer::Checkpointer(const TrainConfig& config, Seq2Seq& model, const Vocab& vocab,
                           torch::optim::Optimizer& optimizer, WeightSmoothing* smoothing)
    : config_(config), model_(model), vocab_(vocab), optimizer_(optimizer), smoothing_(smoothing) {}

std::string Checkpointer::last_path() const {
  return (std::filesystem::path(config_.out) / run_files::kLastCheckpoint).string();
}

std::string Checkpointer::best_path() const {
  return (std::filesystem::path(config_.out) / run_files::kBestCheckpoint).string();
}

void Checkpointer::save_last(const RunState& state) {
  save({last_path()}, state);
}

void Checkpointer::save_best_and_last(const RunState& state) {
  save({best_path(), last_path()}, state);
}

void Checkpointer::save(const std::vector<std::string>& paths, const RunState& state) {
  CheckpointMeta meta;
  meta.epoch = state.epoch;
  meta.config_json = config_.to_json();
  meta.state_json = state.to_json();
  const SmoothedWeights smoothed(smoothing_);  // the model holds them while it lives
  save_checkpoint(paths, model_, vocab_, meta, &optimizer_, &buffer_,
                  smoothing_ ? &smoothing_->trained() : nullptr);
}

}  // namespace s2s
