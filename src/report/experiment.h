// `s2s experiment`: trains every run of a grid (the course's study by default), resumes or skips
// what earlier invocations did, and keeps DIR/REPORT.md and DIR/REPORT.html up to date.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>

#include "report/plan.h"

namespace s2s::report {

// The course's study, sized so that overfitting happens on 2 cores within about an hour: a
// 1-layer GRU without dropout, a 4-layer one without and with dropout 0.8, 256 hidden units,
// each on 280, 560 and 1400 training pairs (a tenth of the course's 2800 and 14000, the same
// 5:1 ratio between them, plus one size between). A constant learning rate, as in the course:
// the trainer's decaying default would freeze the weights long before a run could overfit, and
// overfitting is what this study looks for. Why these sizes: the budget note in course_options.
inline constexpr const char* kCourseGrid =
    "cell=gru hidden=256 layers=1,4 dropout=0,0.8 lr=0.001 lr_decay=1 train_size=280,560,1400";

// The course's 2800 and 14000 pairs over ours (the report's "course (10x data)" columns).
inline constexpr int64_t kCourseDataScale = 10;

// 500 epochs per run (an epoch of 1400 pairs is ~2 s on one core here), never stopped early:
// the overfitting of these runs is a slow rise of the validation loss (the 4-layer model on 560
// pairs: +9% in the 100 epochs after its minimum), which early stopping with a patience of 100
// cut off before the rule could call it (measured: docs/results/course/README.md). Without it,
// the rule reads the end of each curve against its minimum, and every curve shows what follows
// its overfitting epoch, as the course's do.
inline constexpr int kCourseEpochs = 500;
inline constexpr int kCoursePatience = 0;  // never stop early

ExperimentOptions course_options(const std::filesystem::path& out);

// Runs the experiment; returns the exit code: 0 all runs finished, 1 some failed, 130 stopped
// by a signal (resume by running the same command again). Progress lines go to `log`.
int run_experiment(const ExperimentOptions& options, std::FILE* log);

// The report alone, from whatever the run directories hold now (no training, no plots made).
void refresh_report(const ExperimentOptions& options);

}  // namespace s2s::report
