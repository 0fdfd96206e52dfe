// The course's conclusions judged from synthetic observations with known answers.
#include <gtest/gtest.h>

#include "report/conclusions.h"

namespace s2s::report {
namespace {

Observation run(const std::string& layers, const std::string& dropout, const std::string& n,
                double acc, std::optional<int> overfit, int epochs, bool finished = true) {
  Observation o;
  o.params = {{"layers", layers}, {"dropout", dropout}, {"train_size", n}};
  o.name = "l" + layers + "-d" + dropout + "-n" + n;
  o.finished = finished;
  o.seq_acc = acc;
  o.overfit_epoch = overfit;
  o.epochs_run = epochs;
  return o;
}

const Conclusion& find(const std::vector<Conclusion>& all, const std::string& claim) {
  for (const Conclusion& c : all)
    if (c.claim == claim) return c;
  throw std::runtime_error("no claim " + claim);
}

TEST(Conclusions, TheCourseOutcomeSupportsEveryClaim) {
  const auto c = judge_course_conclusions({
      run("1", "0", "2800", 0.60, 30, 40),
      run("4", "0", "2800", 0.58, 12, 22),
      run("4", "0.8", "2800", 0.81, 25, 35),
      run("4", "0.8", "14000", 0.997, std::nullopt, 40),
  });
  const Conclusion& delay = find(c, "Dropout delays overfitting");
  EXPECT_EQ(delay.verdict, Verdict::Supported);
  EXPECT_EQ(delay.summary,
            "Supported: 1 of 1 comparisons support it, 0 contradict it, 0 are inconclusive.");
  EXPECT_EQ(delay.evidence, (std::vector<std::string>{
                                "l4-d0.8-n2800 overfits at epoch 25 vs l4-d0-n2800 overfits at "
                                "epoch 12: supports"}));
  EXPECT_EQ(find(c, "Dropout raises accuracy").evidence,
            (std::vector<std::string>{"l4-d0.8-n2800 81.0% vs l4-d0-n2800 58.0%: supports"}));
  EXPECT_EQ(find(c, "More data raises accuracy").verdict, Verdict::Supported);
  EXPECT_EQ(find(c, "More data delays overfitting").evidence,
            (std::vector<std::string>{"l4-d0.8-n14000 does not overfit in 40 epochs vs "
                                      "l4-d0.8-n2800 overfits at epoch 25: supports"}));
  const Conclusion& deep = find(c, "Too deep without dropout overfits sooner");
  EXPECT_EQ(deep.verdict, Verdict::Supported);
  EXPECT_EQ(deep.evidence,
            (std::vector<std::string>{"l1-d0-n2800 overfits at epoch 30 vs l4-d0-n2800 overfits at "
                                      "epoch 12: supports"}));
  // Each evidence line names its pair by the lower and the higher value of the claim's setting.
  EXPECT_EQ(deep.compared, (std::vector<ComparedRuns>{{"l1-d0-n2800", "l4-d0-n2800"}}));
  EXPECT_EQ(delay.compared, (std::vector<ComparedRuns>{{"l4-d0-n2800", "l4-d0.8-n2800"}}));
}

TEST(Conclusions, ComparedPairsAreEveryPairAClaimReadsOnce) {
  const std::vector<Observation> runs = {
      run("1", "0", "280", 0.0, std::nullopt, 0, false),  // names and settings are enough
      run("4", "0", "280", 0.0, std::nullopt, 0, false),
      run("4", "0.8", "280", 0.0, std::nullopt, 0, false),
      run("4", "0", "1400", 0.0, std::nullopt, 0, false),
      run("1", "0.8", "1400", 0.0, std::nullopt, 0, false),  // 1 layer: no dropout claim
  };
  // Dropout's two claims share their pair; data's two claims theirs; depth needs dropout 0.
  EXPECT_EQ(compared_pairs(runs), (std::vector<ComparedRuns>{{"l4-d0-n280", "l4-d0.8-n280"},
                                                             {"l4-d0-n280", "l4-d0-n1400"},
                                                             {"l1-d0-n280", "l4-d0-n280"}}));
  // Unfinished runs are compared all the same, and say so.
  const auto c = judge_course_conclusions(runs);
  EXPECT_EQ(find(c, "Dropout delays overfitting").compared,
            (std::vector<ComparedRuns>{{"l4-d0-n280", "l4-d0.8-n280"}}));
  EXPECT_EQ(find(c, "Dropout delays overfitting").evidence,
            (std::vector<std::string>{"l4-d0.8-n280 vs l4-d0-n280: not both finished yet"}));
}

TEST(Conclusions, OppositeNumbersContradict) {
  const auto c = judge_course_conclusions({
      run("1", "0", "2800", 0.60, 10, 20),
      run("4", "0", "2800", 0.70, std::nullopt, 50),
      run("4", "0.8", "2800", 0.50, 8, 18),
      run("4", "0.8", "14000", 0.40, 5, 15),
  });
  EXPECT_EQ(find(c, "Dropout delays overfitting").verdict, Verdict::Contradicted);
  EXPECT_EQ(find(c, "Dropout raises accuracy").verdict, Verdict::Contradicted);
  EXPECT_EQ(find(c, "More data raises accuracy").verdict, Verdict::Contradicted);
  EXPECT_EQ(find(c, "More data delays overfitting").verdict, Verdict::Contradicted);
  // The 1-layer run overfits at 10 while the 4-layer one ran 50 epochs without overfitting.
  EXPECT_EQ(find(c, "Too deep without dropout overfits sooner").verdict, Verdict::Contradicted);
}

TEST(Conclusions, NeitherOverfittingOrATieIsInconclusive) {
  const auto c = judge_course_conclusions({
      run("4", "0", "2800", 0.800, std::nullopt, 100),
      run("4", "0.8", "2800", 0.803, std::nullopt, 100),
  });
  const Conclusion& delay = find(c, "Dropout delays overfitting");
  EXPECT_EQ(delay.verdict, Verdict::Inconclusive);
  EXPECT_EQ(delay.evidence.at(0),
            "l4-d0.8-n2800 does not overfit in 100 epochs vs l4-d0-n2800 does not overfit in "
            "100 epochs: inconclusive");
  EXPECT_EQ(find(c, "Dropout raises accuracy").evidence.at(0),
            "l4-d0.8-n2800 80.3% vs l4-d0-n2800 80.0% (within 0.5 points): inconclusive");
}

TEST(Conclusions, ARunThatStoppedBeforeTheOtherOverfitProvesNothing) {
  const auto c = judge_course_conclusions({
      run("4", "0", "2800", 0.5, 30, 40),
      run("4", "0.8", "2800", 0.6, std::nullopt, 20),  // stopped at 20 < 30
  });
  EXPECT_EQ(find(c, "Dropout delays overfitting").verdict, Verdict::Inconclusive);
}

TEST(Conclusions, MixedAndPendingAndUntested) {
  const auto c = judge_course_conclusions({
      run("4", "0", "2800", 0.5, 10, 20),
      run("4", "0.8", "2800", 0.6, 15, 25),
      run("4", "0", "14000", 0.9, 20, 30),
      run("4", "0.8", "14000", 0.95, 12, 22),
      run("4", "0", "28000", 0.9, 20, 30, /*finished=*/false),
      run("4", "0.8", "28000", 0.95, 12, 22),
  });
  const Conclusion& delay = find(c, "Dropout delays overfitting");
  EXPECT_EQ(delay.verdict, Verdict::Mixed);
  EXPECT_EQ(delay.summary,
            "Mixed: 1 of 2 comparisons support it, 1 contradict it, 0 are inconclusive (1 still "
            "waiting for runs).");
  EXPECT_EQ(find(c, "Too deep without dropout overfits sooner").verdict, Verdict::NotTested);
  EXPECT_EQ(find(c, "Too deep without dropout overfits sooner").summary,
            "Not tested: the grid has no two runs that differ only in layers.");
}

TEST(Conclusions, OneLayerRunsDoNotTestDropout) {
  const auto c = judge_course_conclusions({
      run("1", "0", "2800", 0.5, 10, 20),
      run("1", "0.8", "2800", 0.7, 15, 25),
  });
  EXPECT_EQ(find(c, "Dropout raises accuracy").verdict, Verdict::NotTested);
}

}  // namespace
}  // namespace s2s::report
