package ai.lethe.eval;

/**
 * The evaluation of docs/algorithms.md, section 4: accuracies counted per sample, and the membership-inference
 * attack's rate on the forget set (lower means more forgotten).
 */
public record Metrics(double forgetTrainAcc, double retainTrainAcc, double forgetTestAcc, double retainTestAcc,
                      double mia, int forgetTrain, int retainTrain, int forgetTest, int retainTest) {
}
