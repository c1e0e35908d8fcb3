package ai.lethe.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;

import ai.lethe.importance.Estimator;
import ai.lethe.importance.Importance;
import ai.lethe.importance.ImportanceEstimator;
import ai.lethe.importance.Provenance;
import ai.lethe.importance.Workers;
import ai.lethe.kernels.Kernels;
import ai.lethe.method.SsdDampening;
import ai.lethe.model.Libtorch;
import ai.lethe.model.zoo.ZooConfig;
import ai.lethe.model.zoo.ZooModel;

/**
 * SSD end to end as a GPU server runs it, timed by phase: the importance over D (every sample, batch Fisher), the
 * importance over the forget set, and the dampening update, on a zoo model with seeded synthetic inputs that
 * scripts/pytorch_ssd_gpu.py reproduces exactly (same model file, same samples, same batches), so the two are
 * compared side by side on the same device: seconds, and the number of selected parameters.
 */
public final class EndToEndBenchmark {

    /** What to run. */
    public record Settings(String arch, int samples, int batchSize, double forgetFraction, int width, long seed,
                           int warmupBatches, float alpha, float lambda) {
        public Settings {
            if (samples < 1) {
                throw ai.lethe.InvalidSettingException.about("{samples} must be at least 1, got " + samples);
            }
            if (batchSize < 1) {
                throw ai.lethe.InvalidSettingException.about("{batch_size} must be at least 1, got " + batchSize);
            }
            if (!(forgetFraction > 0 && forgetFraction < 1)) {
                throw ai.lethe.InvalidSettingException.about("{forget_fraction} must be between 0 and 1, got " + forgetFraction);
            }
            if (width < 1) {
                throw ai.lethe.InvalidSettingException.about("{width} must be at least 1, got " + width);
            }
            if (warmupBatches < 0) {
                throw ai.lethe.InvalidSettingException.about("{warmup_batches} must be at least 0, got " + warmupBatches);
            }
            SsdDampening.validate(alpha, lambda);
            if (!arch.equals("resnet18-cifar") && !arch.equals("cnn") && !arch.equals("mlp")) {
                throw ai.lethe.InvalidSettingException.about("{arch} must be resnet18-cifar, cnn or mlp, got " + arch);
            }
        }

        /** Every k-th sample is forgotten. */
        int forgetEvery() {
            return (int) Math.max(2, Math.round(1 / forgetFraction));
        }

        int[] sampleShape() {
            return arch.equals("resnet18-cifar") ? new int[] {3, 32, 32} : new int[] {1, 28, 28};
        }
    }

    /** The result, as the JSON object prints it. */
    public record Report(String device, String placement, String libtorch, String arch, long parameters, int samples,
                         int forgetSamples, int batchSize, int workers, long selected, Map<String, Double> seconds,
                         double samplesPerSecond, String modelFile, double[] importanceFullSums) {
    }

    private EndToEndBenchmark() {
    }

    /**
     * Runs the benchmark on {@code kernels} (and, when they are CUDA and libtorch can, with the model on that GPU).
     * {@code saveModel}, when given, receives the model first, for the PyTorch script.
     */
    public static Report run(Settings s, Kernels kernels, Workers workers, Path saveModel) throws IOException {
        ai.lethe.kernels.KernelWarmup.completeBeforeBenchmark();
        int[] shape = s.sampleShape();
        ZooConfig config = new ZooConfig(shape[0], shape[1], 10, s.width(), 64);
        try (ZooModel model = ZooModel.create(s.arch(), config, s.seed())) {
            if (saveModel != null) {
                model.save(saveModel);
            }
            if (kernels.unwrap() instanceof ai.lethe.kernels.cuda.CudaKernels cuda && Libtorch.cudaAvailable()) {
                model.toCuda(cuda.deviceIndex());
            }
            SyntheticBatches data = new SyntheticBatches(shape, 10, s.seed());
            int[] all = IntStream.range(0, s.samples()).toArray();
            int[] forget = IntStream.range(0, s.samples()).filter(i -> i % s.forgetEvery() == 0).toArray();
            if (forget.length == 0) {
                throw ai.lethe.InvalidSettingException.about("{samples} " + s.samples() + " leaves nothing to forget");
            }
            // resident: as in lethe forget, the update reads the sums where the passes left them
            ImportanceEstimator estimator = new ImportanceEstimator(Estimator.BATCH, kernels, null).workers(workers).resident(true);
            Provenance p = new Provenance(model.fingerprint(), Estimator.BATCH, s.batchSize(), "synthetic", "full", "file", "");
            if (s.warmupBatches() > 0) { // libtorch's first passes choose algorithms and fill its caches
                int[] warm = java.util.Arrays.copyOf(all, Math.min(all.length, s.warmupBatches() * s.batchSize()));
                estimator.estimate(model, data.batches(warm, s.batchSize()), 0, "warm-up", p).toHost();
            }
            float[][] original = model.readParameters();
            long t0 = System.nanoTime();
            Importance full = estimator.estimate(model, data.batches(all, s.batchSize()), 0, "importance over D", p);
            long t1 = System.nanoTime();
            Importance forgotten = estimator.estimate(model, data.batches(forget, s.batchSize()), 0, "importance over Df", p);
            long t2 = System.nanoTime();
            SsdDampening.Dampened d = SsdDampening.apply(model, full, forgotten, s.alpha(), s.lambda(), kernels);
            long t3 = System.nanoTime();
            model.writeParameters(original);
            full.toHost();
            forgotten.toHost();
            Map<String, Double> seconds = new LinkedHashMap<>();
            seconds.put("importance_full", (t1 - t0) / 1e9);
            seconds.put("importance_forget", (t2 - t1) / 1e9);
            seconds.put("update", (t3 - t2) / 1e9);
            seconds.put("total", (t3 - t0) / 1e9);
            double passSeconds = (t2 - t0) / 1e9;
            // per-tensor sums of I_D: what the PyTorch script prints too, to compare the importances themselves
            float[][] values = full.values();
            double[] sums = new double[values.length];
            for (int t = 0; t < values.length; t++) {
                for (float v : values[t]) {
                    sums[t] += v;
                }
            }
            return new Report(kernels.description(), model.placement(), Libtorch.build(), s.arch(), model.parameterCount(),
                    s.samples(), forget.length, s.batchSize(), workers.count(), d.selected(), seconds,
                    (s.samples() + forget.length) / passSeconds, saveModel == null ? null : saveModel.toString(), sums);
        }
    }
}
