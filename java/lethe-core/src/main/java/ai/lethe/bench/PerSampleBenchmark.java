package ai.lethe.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import ai.lethe.data.Batch;
import ai.lethe.data.BatchStream;
import ai.lethe.data.DataSource;
import ai.lethe.importance.Estimator;
import ai.lethe.importance.Importance;
import ai.lethe.importance.ImportanceEstimator;
import ai.lethe.importance.Provenance;
import ai.lethe.kernels.Kernels;
import ai.lethe.model.PerSamplePath;
import ai.lethe.model.zoo.Zoo;
import ai.lethe.model.zoo.ZooConfig;
import ai.lethe.model.zoo.ZooModel;

/**
 * The per-sample estimator's paths side by side in one run, on the same seeded zoo model and the same
 * Fashion-MNIST samples (read into memory first, so no path pays for I/O): the batched fast path, today's
 * one-sample loop, the threaded one-sample loop, and a pass of the batch estimator over the same samples (the
 * cost of one forward and backward per batch, the floor the fast path is measured against). Reports medians
 * of the repetitions and the largest per-tensor relative difference between the fast path and the loop,
 * max|fast − loop| / max|loop|.
 */
public final class PerSampleBenchmark {

    /** Seconds are medians over the repetitions; ratios are computed from those medians. */
    public record Report(String arch, String model, int samples, int batchSize, String device, int repetitions,
                         String fastPath, double fastSeconds, double loopSeconds, double threadedSeconds,
                         double batchPassSeconds, double loopOverFast, double fastOverBatchPass, double maxRelDiff,
                         String maxRelDiffTensor) {
    }

    /** What to run; {@code width} is the ResNet base width (64 as published). */
    public record Settings(String arch, int samples, int batchSize, int width, long seed, int repetitions,
                           boolean threaded) {
        public Settings {
            if (samples < 1) {
                throw new ai.lethe.InvalidSettingException("--samples must be at least 1, got " + samples);
            }
            if (batchSize < 1) {
                throw new ai.lethe.InvalidSettingException("--batch-size must be at least 1, got " + batchSize);
            }
            if (repetitions < 1) {
                throw new ai.lethe.InvalidSettingException("--repetitions must be at least 1, got " + repetitions);
            }
            if (width < 1) {
                throw new ai.lethe.InvalidSettingException("--width must be at least 1, got " + width);
            }
            arch = Zoo.normalise(arch);
            if (arch.equals("resnet18")) {
                throw new ai.lethe.InvalidSettingException("bench per-sample runs on Fashion-MNIST (28x28): use cnn, mlp or resnet18-cifar");
            }
        }
    }

    private PerSampleBenchmark() {
    }

    public static Report run(Settings s, Kernels kernels) throws IOException {
        DataSource data = DataSource.open("fashion-mnist", s.samples());
        int[] sampleShape = data.train().sampleShape();
        List<Batch> batches = new ArrayList<>();
        try (BatchStream stream = BatchStream.all(data.train(), data.train().labels(), s.batchSize())) {
            stream.forEachRemaining(batches::add);
        }
        int samples = batches.stream().mapToInt(Batch::size).sum();
        ZooConfig config = ZooConfig.defaults(sampleShape[0], sampleShape[1], 10).withWidth(s.width());
        try (ZooModel model = ZooModel.create(s.arch(), config, s.seed())) {
            // Warm-up: JIT, libtorch's kernels and thread pools, on the first batch.
            List<Batch> first = batches.subList(0, 1);
            for (PerSamplePath p : PerSamplePath.values()) {
                pass(model, kernels, first, Estimator.PER_SAMPLE, p, s.batchSize());
            }
            pass(model, kernels, first, Estimator.BATCH, null, s.batchSize());

            double[] fast = new double[s.repetitions()];
            double[] loop = new double[s.repetitions()];
            double[] threaded = new double[s.repetitions()];
            double[] batchPass = new double[s.repetitions()];
            Importance fastResult = null;
            Importance loopResult = null;
            for (int r = 0; r < s.repetitions(); r++) { // interleaved, so machine noise hits every path alike
                long t = System.nanoTime();
                fastResult = pass(model, kernels, batches, Estimator.PER_SAMPLE, PerSamplePath.BATCHED, s.batchSize());
                fast[r] = seconds(t);
                t = System.nanoTime();
                loopResult = pass(model, kernels, batches, Estimator.PER_SAMPLE, PerSamplePath.LOOP, s.batchSize());
                loop[r] = seconds(t);
                if (s.threaded()) {
                    t = System.nanoTime();
                    pass(model, kernels, batches, Estimator.PER_SAMPLE, PerSamplePath.THREADED, s.batchSize());
                    threaded[r] = seconds(t);
                }
                t = System.nanoTime();
                pass(model, kernels, batches, Estimator.BATCH, null, s.batchSize());
                batchPass[r] = seconds(t);
            }
            double worst = 0;
            String worstTensor = "";
            for (int i = 0; i < fastResult.sums().length; i++) {
                double rel = relativeDifference(fastResult.sums()[i], loopResult.sums()[i]);
                if (rel >= worst) {
                    worst = rel;
                    worstTensor = model.parameters().get(i).name();
                }
            }
            double fastS = median(fast);
            double loopS = median(loop);
            double batchS = median(batchPass);
            return new Report(s.arch(), model.description() + ", " + model.parameterCount() + " parameters", samples,
                    s.batchSize(), kernels.description(), s.repetitions(), fastResult.computation(), fastS, loopS,
                    s.threaded() ? median(threaded) : Double.NaN, batchS, loopS / fastS, fastS / batchS, worst, worstTensor);
        }
    }

    private static Importance pass(ZooModel model, Kernels kernels, List<Batch> batches, Estimator estimator,
                                   PerSamplePath path, int batchSize) {
        Provenance p = new Provenance(model.fingerprint(), estimator, batchSize, "bench", "full", "file", "");
        return new ImportanceEstimator(estimator, kernels, null).perSamplePath(path)
                .estimate(model, batches.iterator(), batches.size(), "bench", p);
    }

    /** max|a − b| / max|b| over one tensor (b the reference); 0 when both are all zero. */
    public static double relativeDifference(float[] a, float[] b) {
        double diff = 0;
        double scale = 0;
        for (int j = 0; j < a.length; j++) {
            diff = Math.max(diff, Math.abs((double) a[j] - b[j]));
            scale = Math.max(scale, Math.abs(b[j]));
        }
        return scale == 0 ? (diff == 0 ? 0 : Double.POSITIVE_INFINITY) : diff / scale;
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
