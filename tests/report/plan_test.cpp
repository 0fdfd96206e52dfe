// The plan of `s2s experiment`: runs, data, threads per job, and the exact child commands.
#include <gtest/gtest.h>

#include "report/experiment.h"
#include "report/plan.h"
#include "s2s/error.h"

namespace s2s::report {
namespace {

std::vector<std::string> names(const Plan& plan) {
  std::vector<std::string> out;
  for (const RunSpec& r : plan.runs) out.push_back(r.name);
  return out;
}

TEST(Plan, CourseStudyIsNineRunsOnThreeDatasets) {
  ExperimentOptions o = course_options("/x");
  o.cores = 2;
  const Plan plan = make_plan(o);
  EXPECT_EQ(names(plan), (std::vector<std::string>{
                             "l1-d0-n280", "l1-d0-n560", "l1-d0-n1400", "l4-d0-n280", "l4-d0-n560",
                             "l4-d0-n1400", "l4-d0.8-n280", "l4-d0.8-n560", "l4-d0.8-n1400"}));
  ASSERT_EQ(plan.notes.size(), 3u);  // the three 1-layer dropout-0.8 runs
  EXPECT_EQ(plan.notes[0].rfind("skipped l1-d0.8-n280: with 1 layer dropout", 0), 0u);
  ASSERT_EQ(plan.data.size(), 3u);
  EXPECT_EQ(plan.data[0].train_size, 280);
  EXPECT_EQ(plan.data[0].valid_size, 56);  // validation = train / 5
  EXPECT_EQ(plan.data[2].valid_size, 280);
  EXPECT_EQ(plan.data[2].dir, "/x/data/n1400");
  EXPECT_EQ(plan.runs[5].dir, "/x/l4-d0-n1400");
  EXPECT_EQ(plan.runs[5].log, "/x/logs/l4-d0-n1400.log");
  EXPECT_EQ(o.course_data_scale, 10);  // the course's 2800 and 14000 pairs beside 280 and 1400
  // By default one single-threaded run per core.
  EXPECT_EQ(plan.jobs, 2);
  EXPECT_EQ(plan.threads_per_job, 1);
}

TEST(Plan, OneJobRunsTheCheapestFirstWithAllCores) {
  ExperimentOptions o = course_options("/x");
  o.cores = 2;
  o.jobs = 1;
  const Plan plan = make_plan(o);
  EXPECT_EQ(plan.threads_per_job, 2);
  // Cheapest first (1 layer on 280 pairs), so the report has results early.
  EXPECT_EQ(plan.runs[plan.schedule.front()].name, "l1-d0-n280");
  EXPECT_EQ(plan.runs[plan.schedule.back()].name.substr(0, 2), "l4");
  EXPECT_EQ(plan.runs[plan.schedule.back()].train_size, 1400);
}

TEST(Plan, JobsSplitTheCoresAndRunTheLongestFirst) {
  ExperimentOptions o = course_options("/x");
  o.cores = 2;
  o.jobs = 2;
  Plan plan = make_plan(o);
  EXPECT_EQ(plan.threads_per_job, 1);
  EXPECT_EQ(plan.runs[plan.schedule.front()].train_size, 1400);
  EXPECT_EQ(plan.runs[plan.schedule.back()].name, "l1-d0-n280");
  o.cores = 8;
  o.jobs = 3;
  EXPECT_EQ(make_plan(o).threads_per_job, 2);  // 8 / 3, rounded down
  o.cores = 2;
  o.jobs = 4;
  plan = make_plan(o);
  EXPECT_EQ(plan.threads_per_job, 1);
  EXPECT_EQ(plan.notes.back(),
            "--jobs 4 is more than the 2 cores: each run gets 1 thread and they compete");
  o.threads = 3;  // --threads wins over the share of the cores
  EXPECT_EQ(make_plan(o).threads_per_job, 3);
  o.threads = 0;
  o.jobs = -1;
  EXPECT_THROW(make_plan(o), Error);
}

TEST(Plan, JobsNeverExceedTheRuns) {
  ExperimentOptions o;
  o.grid = parse_grid("hidden=8,16");
  o.out = "/y";
  o.cores = 4;
  o.jobs = 8;
  const Plan plan = make_plan(o);
  EXPECT_EQ(plan.jobs, 2);
  EXPECT_EQ(plan.threads_per_job, 2);
  EXPECT_EQ(names(plan), (std::vector<std::string>{"h8", "h16"}));
  EXPECT_EQ(plan.data.at(0).train_size, kDefaultTrainSize);
}

TEST(Plan, OneLayerDropoutRunIsKeptWhenItsTwinIsNotInTheGrid) {
  ExperimentOptions o;
  o.grid = parse_grid("layers=1 dropout=0.5");
  o.out = "/y";
  const Plan plan = make_plan(o);
  ASSERT_EQ(plan.runs.size(), 1u);
  EXPECT_EQ(plan.runs[0].name, "l1-d0.5");  // nothing varies: every axis names it
}

TEST(Plan, ChildCommands) {
  ExperimentOptions o = course_options("/x");
  o.cores = 2;
  const Plan plan = make_plan(o);
  EXPECT_EQ(gen_args(plan.data[0], 7),
            (std::vector<std::string>{"gen", "zero-shift", "--train", "280", "--valid", "56",
                                      "--seed", "7", "--out-dir", "/x/data/n280"}));
  const RunSpec& run = plan.runs[6];  // l4-d0.8-n280
  EXPECT_EQ(train_args(o, plan, run, false), (std::vector<std::string>{"train",
                                                                       "--train",
                                                                       "/x/data/n280/train.csv",
                                                                       "--valid",
                                                                       "/x/data/n280/valid.csv",
                                                                       "--out",
                                                                       "/x/l4-d0.8-n280",
                                                                       "--cell",
                                                                       "gru",
                                                                       "--hidden",
                                                                       "256",
                                                                       "--layers",
                                                                       "4",
                                                                       "--dropout",
                                                                       "0.8",
                                                                       "--lr",
                                                                       "0.001",
                                                                       "--lr-decay",
                                                                       "1",
                                                                       "--epochs",
                                                                       "500",
                                                                       "--patience",
                                                                       "0",
                                                                       "--threads",
                                                                       "1"}));
  // Resuming passes the same flags: the trainer checks those that define the run and applies
  // the others (issue 16).
  std::vector<std::string> resume = train_args(o, plan, run, false);
  resume[5] = "--resume";
  EXPECT_EQ(train_args(o, plan, run, true), resume);
}

TEST(Plan, GridEpochsAndPatienceWinOverTheFlags) {
  ExperimentOptions o;
  o.grid = parse_grid("epochs=5 patience=2 batch=32");
  o.out = "/y";
  o.epochs = 50;
  o.patience = 9;
  o.cores = 1;
  const Plan plan = make_plan(o);
  EXPECT_EQ(
      train_args(o, plan, plan.runs[0], false),
      (std::vector<std::string>{"train", "--train", "/y/data/n14000/train.csv", "--valid",
                                "/y/data/n14000/valid.csv", "--out", "/y/e5-p2-b32", "--epochs",
                                "5", "--patience", "2", "--batch", "32", "--threads", "1"}));
}

// bf16 against f32 as an experiment axis: the value names the run (one-value axes do not) and
// becomes --precision.
TEST(Plan, PrecisionIsAGridAxis) {
  ExperimentOptions o;
  o.grid = parse_grid("precision=f32,bf16 epochs=3");
  o.out = "/z";
  o.cores = 1;
  const Plan plan = make_plan(o);
  ASSERT_EQ(plan.runs.size(), 2u);
  EXPECT_EQ(train_args(o, plan, plan.runs[1], false),
            (std::vector<std::string>{"train", "--train", "/z/data/n14000/train.csv", "--valid",
                                      "/z/data/n14000/valid.csv", "--out", "/z/bf16", "--precision",
                                      "bf16", "--epochs", "3", "--threads", "1"}));
}

}  // namespace
}  // namespace s2s::report
