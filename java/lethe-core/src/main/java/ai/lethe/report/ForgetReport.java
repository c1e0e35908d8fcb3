package ai.lethe.report;

import java.util.List;

import ai.lethe.eval.Metrics;

/**
 * What a forget run did and how well, as `lethe forget --report` writes it (snake_case keys in JSON).
 * {@code selected} counts the parameter elements the method changed (dampened for SSD, reset for DeepClean,
 * every parameter for the methods that train); {@code baseline} is true for the baselines (finetune, neggrad,
 * retrain); estimator, batch size, alpha and lambda are SSD's and null for other methods, whose settings are in
 * {@code settings}. Non-finite numbers are reported as null.
 */
public record ForgetReport(
        String method,
        boolean baseline,
        String backend,
        String device,
        String model,
        String modelFingerprint,
        String outputFingerprint,
        String data,
        String forgetSet,
        int forgetSamples,
        int retainSamples,
        String estimator,
        Integer batchSize,
        Double alpha,
        Double lambda,
        java.util.Map<String, Object> settings,
        long params,
        long selected,
        double selectedFraction,
        Double largestRatio,
        String importanceFullSource,
        List<String> notes,
        java.util.Map<String, Object> details,
        MetricsReport before,
        MetricsReport after,
        Seconds seconds) {

    /** Accuracies and MIA; null where there were no samples. */
    public record MetricsReport(Double forgetTrainAcc, Double retainTrainAcc, Double forgetTestAcc, Double retainTestAcc,
                                Double mia, int forgetTrain, int retainTrain, int forgetTest, int retainTest) {

        public static MetricsReport of(Metrics m) {
            return m == null ? null : new MetricsReport(finite(m.forgetTrainAcc()), finite(m.retainTrainAcc()),
                    finite(m.forgetTestAcc()), finite(m.retainTestAcc()), finite(m.mia()), m.forgetTrain(),
                    m.retainTrain(), m.forgetTest(), m.retainTest());
        }
    }

    /**
     * Wall-clock seconds per phase; total covers the unlearning itself, not evaluation. importance_full is the
     * pass over D (over Dr for DeepClean), importance_forget the pass over Df (the codes for Mnemonic), update
     * everything else the method does (dampening, resetting, training, LoRA).
     */
    public record Seconds(double importanceFull, double importanceForget, double update, double total, Double evaluate) {
    }

    public static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
