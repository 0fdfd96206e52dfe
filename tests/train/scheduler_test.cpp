// The learning-rate schedules, the best-epoch rule and early stopping, as the trainer's
// scheduler applies them (numbers worked out by hand).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "s2s/error.h"
#include "train/run_state.h"
#include "train/scheduler.h"

namespace s2s {
namespace {

TrainConfig with_schedule(LrSchedule schedule) {
  TrainConfig c;
  c.lr = 0.01;
  c.epochs = 10;
  c.lr_schedule = schedule;
  c.warmup_epochs = 0;  // the tests give their warm-up
  return c;
}

// The rate of each epoch's steps, feeding the scheduler the given validation losses.
std::vector<double> epoch_rates(const TrainConfig& config, const std::vector<double>& losses) {
  const Scheduler scheduler(config, 5);
  ScheduleState state = scheduler.start();
  std::vector<double> rates;
  for (size_t e = 0; e < losses.size(); ++e) {
    const int64_t first_step = static_cast<int64_t>(e) * 5;
    rates.push_back(scheduler.lr_at(state, first_step));
    EXPECT_EQ(scheduler.lr_at(state, first_step + 4), rates.back()) << "epoch " << e + 1;
    scheduler.end_epoch(state, static_cast<int64_t>(e) + 1, 0.5, losses[e]);
  }
  return rates;
}

TEST(Scheduler, ConstantNeverMoves) {
  const auto rates = epoch_rates(with_schedule(LrSchedule::Constant), {3, 2, 4, 5, 6});
  EXPECT_EQ(rates, std::vector<double>(5, 0.01));
}

TEST(Scheduler, ExponentialMultipliesByLrDecayAfterEachEpoch) {
  TrainConfig c = with_schedule(LrSchedule::Exponential);
  c.lr_decay = 0.5;
  const auto rates = epoch_rates(c, {3, 2, 4, 5});
  ASSERT_EQ(rates.size(), 4u);
  EXPECT_DOUBLE_EQ(rates[0], 0.01);
  EXPECT_DOUBLE_EQ(rates[1], 0.005);
  EXPECT_DOUBLE_EQ(rates[2], 0.0025);
  EXPECT_DOUBLE_EQ(rates[3], 0.00125);
}

TEST(Scheduler, PlateauHalvesOncePerPatienceEpochsWithoutALowerValidationLoss) {
  TrainConfig c = with_schedule(LrSchedule::Plateau);
  c.lr_patience = 2;
  // Lowest loss at epoch 2; epochs 3 and 4 do not improve: halve after epoch 4. Epochs 5 and 6
  // do not either: halve again after 6 (counted from the last halving, not every epoch).
  // Epoch 7 improves: the count restarts there.
  const auto rates = epoch_rates(c, {3, 2, 2.5, 2.1, 2.2, 2.3, 1.5, 1.6, 1.7});
  const std::vector<double> expected{0.01, 0.01, 0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025, 0.0025};
  ASSERT_EQ(rates.size(), expected.size());
  for (size_t i = 0; i < rates.size(); ++i) EXPECT_DOUBLE_EQ(rates[i], expected[i]) << i;
  // After epoch 9 (two epochs after the lowest loss at 7) the next halving is due.
  const Scheduler scheduler(c, 5);
  ScheduleState s = scheduler.start();
  int64_t epoch = 0;
  for (double loss : {3.0, 2.0, 2.5, 2.1, 2.2, 2.3, 1.5, 1.6, 1.7})
    scheduler.end_epoch(s, ++epoch, 0.5, loss);
  EXPECT_DOUBLE_EQ(s.lr, 0.00125);
  EXPECT_EQ(s.lr_cut_epoch, 9);
}

TEST(Scheduler, WarmupCosineRisesLinearlyThenFollowsAHalfCosineToZero) {
  TrainConfig c = with_schedule(LrSchedule::WarmupCosine);
  c.epochs = 4;
  c.warmup_steps = 4;
  const Scheduler scheduler(c, 10);  // 40 steps, 4 of warm-up, 36 of cosine
  EXPECT_EQ(scheduler.total_steps(), 40);
  EXPECT_EQ(scheduler.warmup_steps(), 4);
  const ScheduleState s = scheduler.start();
  EXPECT_DOUBLE_EQ(scheduler.lr_at(s, 0), 0.0025);
  EXPECT_DOUBLE_EQ(scheduler.lr_at(s, 1), 0.005);
  EXPECT_DOUBLE_EQ(scheduler.lr_at(s, 3), 0.01);        // the last warm-up step reaches lr
  EXPECT_DOUBLE_EQ(scheduler.lr_at(s, 4), 0.01);        // the cosine starts at its top
  EXPECT_DOUBLE_EQ(scheduler.lr_at(s, 4 + 18), 0.005);  // half way down
  EXPECT_NEAR(scheduler.lr_at(s, 4 + 9), 0.01 * 0.5 * (1 + std::cos(M_PI / 4)), 1e-15);
  const double last = scheduler.lr_at(s, 39);
  EXPECT_GT(last, 0.0);
  EXPECT_LT(last, 1e-4);
  // Epochs are not steps: end_epoch leaves the rate to the step count.
  ScheduleState after = s;
  scheduler.end_epoch(after, 1, 0.5, 1.0);
  EXPECT_EQ(scheduler.lr_at(after, 22), scheduler.lr_at(s, 22));
}

TEST(Scheduler, WarmupEpochsCountInStepsOfAnEpoch) {
  TrainConfig c = with_schedule(LrSchedule::WarmupCosine);
  c.epochs = 4;
  c.warmup_epochs = 1;
  c.warmup_steps = 2;
  const Scheduler scheduler(c, 10);
  EXPECT_EQ(scheduler.warmup_steps(), 12);
  EXPECT_DOUBLE_EQ(scheduler.lr_at(scheduler.start(), 5), 0.005);
}

TEST(PlanEpochs, AsManyMoreAsFitAtTheLastThreeEpochsMeanPlusFivePercent) {
  // Mean of the last three 100 s (the 1000 s first epoch no longer counts): 105 s each.
  const std::vector<double> seconds{1000, 90, 110, 100};
  EXPECT_EQ(plan_epochs(4, seconds, 1300, 1800, 50), 8);  // 500 s left: 4 more (420 s)
  EXPECT_EQ(plan_epochs(4, seconds, 1300, 1719, 50), 7);  // 419 s left: 3 more
  EXPECT_EQ(plan_epochs(4, seconds, 1300, 1800, 6), 6);   // never past --epochs
  EXPECT_EQ(plan_epochs(4, seconds, 1800, 1800, 50), 4);  // nothing left: stop now
  EXPECT_EQ(plan_epochs(4, seconds, 2000, 1800, 50), 4);  // over already: still not below done
  // One or two epochs measured: their mean.
  EXPECT_EQ(plan_epochs(1, {200}, 200, 1300, 50), 6);  // 1100 / 210: 5 more
  EXPECT_EQ(plan_epochs(2, {100, 300}, 400, 1300, 50), 6);
  EXPECT_EQ(plan_epochs(0, {}, 0, 10, 50), 50);  // nothing measured: --epochs
  EXPECT_DOUBLE_EQ(recent_epoch_seconds(seconds), 100);
  EXPECT_DOUBLE_EQ(recent_epoch_seconds({}), 0);
}

// warmup-cosine under a plan of N epochs is the curve of an --epochs N run, warm-up included;
// without --time-budget a stored plan is ignored.
TEST(Scheduler, PlannedEpochsSetWhereTheCosineEnds) {
  TrainConfig c = with_schedule(LrSchedule::WarmupCosine);
  c.epochs = 10;
  c.warmup_epochs = 1;
  c.time_budget = 30;
  const Scheduler budgeted(c, 5);
  ScheduleState planned = budgeted.start();
  EXPECT_EQ(budgeted.last_epoch(planned), 10);
  // After epoch 2 (30 s each, 60 of 1800 s used): 1740 / 31.5 = 55 more, capped at 10.
  EXPECT_FALSE(budgeted.plan(planned, 2, {30, 30}, 60));
  EXPECT_EQ(planned.planned_epochs, 10);
  // Epochs of 300 s: 1740 / 315 = 5 more: 7 in all.
  EXPECT_TRUE(budgeted.plan(planned, 2, {300, 300}, 60));
  EXPECT_EQ(budgeted.last_epoch(planned), 7);
  TrainConfig seven = c;
  seven.epochs = 7;
  seven.time_budget = 0;
  const Scheduler fixed(seven, 5);
  for (int64_t step = 0; step < 35; ++step) {
    EXPECT_DOUBLE_EQ(budgeted.lr_at(planned, step), fixed.lr_at(fixed.start(), step)) << step;
  }
  c.time_budget = 0;
  const Scheduler unbudgeted(c, 5);
  EXPECT_EQ(unbudgeted.last_epoch(planned), 10);
  TrainConfig ten = seven;
  ten.epochs = 10;
  const Scheduler plain(ten, 5);
  EXPECT_DOUBLE_EQ(unbudgeted.lr_at(planned, 20), plain.lr_at(plain.start(), 20));
  // The plan travels in the checkpoint's state.
  RunState r;
  r.schedule = planned;
  EXPECT_EQ(RunState::from_json(r.to_json(), "test").schedule.planned_epochs, 7);
}

// After its planned last epoch a run does not plan more, however fast its epochs were (session
// 17: a plan of 40 grew to 41 after epoch 40, whose cosine had ended, for one epoch at ~0);
// before it, faster epochs still extend the plan.
TEST(Scheduler, AnEndedPlanIsNotReopenedAfterItsLastEpoch) {
  TrainConfig c = with_schedule(LrSchedule::WarmupCosine);
  c.epochs = 50;
  c.time_budget = 30;
  const Scheduler scheduler(c, 5);
  ScheduleState state = scheduler.start();
  state.planned_epochs = 40;
  // 40 epochs of 40 s used 1600 of 1800 s; 200 / 42 fits 4 more, but the plan has run.
  EXPECT_FALSE(scheduler.replan_after_epoch(state, 40, {40, 40, 40}, 1600));
  EXPECT_EQ(scheduler.last_epoch(state), 40);
  // After epoch 39 (1560 s used) the same speed extends it: 240 / 42 = 5 more, 44.
  EXPECT_TRUE(scheduler.replan_after_epoch(state, 39, {40, 40, 40}, 1560));
  EXPECT_EQ(scheduler.last_epoch(state), 44);
  // plan() itself (a resume) still plans past an ended run.
  state.planned_epochs = 40;
  EXPECT_TRUE(scheduler.plan(state, 40, {40, 40, 40}, 1600));
  EXPECT_EQ(scheduler.last_epoch(state), 44);
}

TEST(Scheduler, BestEpochIsHighestExactMatchWithTiesToTheLowerLoss) {
  const Scheduler scheduler(with_schedule(LrSchedule::Constant), 5);
  ScheduleState s = scheduler.start();
  EXPECT_TRUE(scheduler.end_epoch(s, 1, 0.0, 2.0).best);  // the first epoch is always best
  EXPECT_TRUE(scheduler.end_epoch(s, 2, 0.5, 1.0).best);
  EXPECT_FALSE(scheduler.end_epoch(s, 3, 0.4, 0.5).best);  // lower loss, worse exact match
  EXPECT_TRUE(scheduler.end_epoch(s, 4, 0.5, 0.9).best);   // tie on exact match, lower loss
  EXPECT_FALSE(scheduler.end_epoch(s, 5, 0.5, 0.9).best);  // a full tie keeps the earlier
  EXPECT_EQ(s.best_epoch, 4);
  EXPECT_EQ(s.min_loss_epoch, 3);
}

TEST(Scheduler, EarlyStoppingAfterPatienceEpochsWithoutALowerLoss) {
  TrainConfig c = with_schedule(LrSchedule::Constant);
  c.patience = 2;
  const Scheduler scheduler(c, 5);
  ScheduleState s = scheduler.start();
  EXPECT_FALSE(scheduler.end_epoch(s, 1, 0.1, 2.0).stop_early);
  EXPECT_FALSE(scheduler.end_epoch(s, 2, 0.2, 1.0).stop_early);
  EXPECT_FALSE(scheduler.end_epoch(s, 3, 0.3, 1.5).stop_early);
  EXPECT_TRUE(scheduler.end_epoch(s, 4, 0.4, 1.1).stop_early);
  c.patience = 0;  // never
  const Scheduler never(c, 5);
  s = never.start();
  for (int64_t e = 1; e <= 20; ++e) EXPECT_FALSE(never.end_epoch(s, e, 0.1, e).stop_early);
}

TEST(RunState, RoundTripsAndReadsCheckpointsFromBeforeSchedules) {
  RunState r;
  r.epoch = 3;
  r.step = 7;
  r.partial.loss_sum = 1.5;
  r.partial.tokens = 10;
  r.schedule.lr = 0.25;
  r.schedule.lr_cut_epoch = 2;
  r.schedule.best_epoch = 3;
  r.window.tokens = 4;
  r.window_seconds = 0.5;
  const RunState back = RunState::from_json(r.to_json(), "x");
  EXPECT_EQ(back.to_json(), r.to_json());
  // The state an older trainer wrote: the tally as a JSON string, no schedule or window fields.
  const RunState old = RunState::from_json(
      R"({"epoch":2,"step":0,"partial":"{\"loss_sum\":0.0,\"tokens\":0,\"correct_tokens\":0,)"
      R"(\"seqs\":0,\"correct_seqs\":0}","partial_seconds":0.0,"lr":0.001,)"
      R"("elapsed_seconds":3.0,"best_epoch":2,"best_valid_seq_acc":0.5,"best_valid_loss":1.0,)"
      R"("min_loss_epoch":2,"min_valid_loss":1.0})",
      "old.pt");
  EXPECT_EQ(old.epoch, 2);
  EXPECT_DOUBLE_EQ(old.schedule.lr, 0.001);
  EXPECT_EQ(old.schedule.lr_cut_epoch, 0);
  EXPECT_EQ(old.window.tokens, 0);
  try {
    RunState::from_json("{}", "bad.pt");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.pt: checkpoint has no resumable training state"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace s2s
