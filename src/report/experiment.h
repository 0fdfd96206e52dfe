// `s2s experiment`: trains every run of a grid (the course's study by default), resumes or skips
// what earlier invocations did, and keeps DIR/REPORT.md and DIR/REPORT.html up to date.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>

#include "report/plan.h"

namespace s2s::report {

// The course's study: a 1-layer GRU without dropout, a 4-layer one without and with dropout 0.8,
// each on 2800 and on 14000 training pairs, 256 hidden units, early stopping on validation loss.
// A constant learning rate, as in the course: the trainer's decaying default would freeze the
// weights long before a run could overfit, and overfitting is what this study looks for.
inline constexpr const char* kCourseGrid =
    "cell=gru hidden=256 layers=1,4 dropout=0,0.8 lr=0.001 lr_decay=1 train_size=2800,14000";

// The time budget of `s2s experiment course` (the course's 2000 epochs per run are out of reach
// on 2 cores). Six runs, two at a time with one thread each on 2 cores. One epoch of the 4x256
// GRU on 14000 pairs takes ~30 s on one core here, so a run that never stops early costs ~30 min
// at 60 epochs; the other core trains the five smaller runs meanwhile, and early stopping
// (patience 10 on the validation loss) ends the overfitting runs sooner. This VM's speed varies
// up to 2x, so 60 epochs (not 100) keeps the study within about an hour on a slow day.
inline constexpr int kCourseEpochs = 60;
inline constexpr int kCoursePatience = 10;

ExperimentOptions course_options(const std::filesystem::path& out);

// Runs the experiment; returns the exit code: 0 all runs finished, 1 some failed, 130 stopped
// by a signal (resume by running the same command again). Progress lines go to `log`.
int run_experiment(const ExperimentOptions& options, std::FILE* log);

// The report alone, from whatever the run directories hold now (no training, no plots made).
void refresh_report(const ExperimentOptions& options);

}  // namespace s2s::report
