package ai.lethe.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import ai.lethe.data.Batch;
import ai.lethe.data.BatchStream;
import ai.lethe.data.DataSource;
import ai.lethe.importance.Estimator;
import ai.lethe.importance.Importance;
import ai.lethe.importance.ImportanceEstimator;
import ai.lethe.importance.Provenance;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.cuda.CudaKernels;
import ai.lethe.model.Libtorch;
import ai.lethe.model.PerSamplePath;
import ai.lethe.model.zoo.Zoo;
import ai.lethe.model.zoo.ZooConfig;
import ai.lethe.model.zoo.ZooModel;

/**
 * The per-sample estimator's paths side by side in one run, on the same seeded zoo model and the same samples
 * (the first N Fashion-MNIST training images, or seeded synthetic inputs of a given shape as in
 * {@link SyntheticBatches}; read into memory first, so no path pays for I/O): the batched fast path, today's
 * one-sample loop, the threaded one-sample loop, and a pass of the batch estimator over the same samples (the
 * cost of one forward and backward per batch, the floor the fast path is measured against). The one-sample loops
 * may run on the first K samples only (they cost minutes on ResNet-18); their seconds are then compared per
 * sample. Reports medians of the repetitions and the largest per-tensor relative difference between the fast
 * path and the loop over the same K samples, max|fast − loop| / max|loop|.
 */
public final class PerSampleBenchmark {

    /** How long the fast path and the batch pass are warmed up by default (see {@link #run}). */
    public static final double DEFAULT_WARMUP_SECONDS = 4;

    /** Where the samples come from: {@code fashion-mnist} or {@code synthetic}, and one sample's shape (C, H, W). */
    public record Input(String source, int[] shape) {
    }

    /**
     * Seconds are medians over the repetitions; the one-sample loops ran on the first {@code loopSamples} samples,
     * the fast path and the batch pass on all of them, so {@code loopOverFast} compares seconds per sample.
     */
    public record Report(String arch, String model, Input input, int samples, int loopSamples, int batchSize, String device,
                         String placement, int repetitions, String fastPath, double fastSeconds, double loopSeconds,
                         Double threadedSeconds, double batchPassSeconds, double loopOverFast, double fastOverBatchPass,
                         double maxRelDiff, String maxRelDiffTensor, int workers, int batchWorkers, int warmupPasses) {
    }

    /**
     * What to run; {@code width} is the ResNet base width (64 as published); {@code input} the shape of synthetic
     * samples (C, H, W with H = W), or null for Fashion-MNIST; {@code loopSamples} the samples the one-sample loops
     * run on (1 to {@code samples}); {@code workers} the workers of the fast path and the batch pass, 0 for each
     * estimator's default (the one-sample loops run on one).
     */
    public record Settings(String arch, int samples, int batchSize, int width, long seed, int repetitions,
                           boolean threaded, int[] input, int loopSamples, int workers, double warmupSeconds) {
        public Settings {
            if (!(warmupSeconds >= 0 && warmupSeconds <= 3600)) {
                throw new ai.lethe.InvalidSettingException("--warmup-seconds must be between 0 and 3600, got " + warmupSeconds);
            }
            if (workers < 0 || workers > 64) {
                throw new ai.lethe.InvalidSettingException("--workers must be auto or between 1 and 64, got " + workers);
            }
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
            if (loopSamples < 1 || loopSamples > samples) {
                throw new ai.lethe.InvalidSettingException("--loop-samples must be between 1 and --samples (" + samples + "), got "
                        + loopSamples);
            }
            if (input != null && (input.length != 3 || input[0] < 1 || input[1] < 1 || input[1] != input[2])) {
                throw new ai.lethe.InvalidSettingException("--input must be C,H,W with H = W, got " + Arrays.toString(input));
            }
            arch = Zoo.normalise(arch);
            if (arch.equals("resnet18") && input == null) {
                throw new ai.lethe.InvalidSettingException("resnet18 (the ImageNet stem) needs larger images than Fashion-MNIST's"
                        + " 28x28: give synthetic inputs (--input 3,224,224), or use cnn, mlp or resnet18-cifar");
            }
            input = input == null ? null : input.clone();
        }

        /** Settings with the one-sample loops on every sample. */
        public Settings(String arch, int samples, int batchSize, int width, long seed, int repetitions, boolean threaded,
                        int[] input) {
            this(arch, samples, batchSize, width, seed, repetitions, threaded, input, samples, 1, DEFAULT_WARMUP_SECONDS);
        }
    }

    /** {@code C,H,W} (for example 3,32,32) as a sample shape; a one-line error when it is not three positive integers. */
    public static int[] parseInput(String text) {
        String[] parts = text.strip().split("\\s*,\\s*", -1);
        int[] shape = new int[parts.length];
        try {
            for (int i = 0; i < parts.length; i++) {
                shape[i] = Integer.parseInt(parts[i]);
            }
        } catch (NumberFormatException e) {
            shape = null;
        }
        if (shape == null || shape.length != 3 || Arrays.stream(shape).anyMatch(d -> d < 1)) {
            throw new ai.lethe.InvalidSettingException("--input must be three positive integers C,H,W (for example 3,32,32), got '"
                    + text + "'");
        }
        return shape;
    }

    private PerSampleBenchmark() {
    }

    public static Report run(Settings s, Kernels kernels) throws IOException {
        ai.lethe.kernels.KernelWarmup.completeBeforeBenchmark();
        Input input;
        List<Batch> batches;
        if (s.input() == null) {
            DataSource data = DataSource.open("fashion-mnist", s.samples());
            input = new Input("fashion-mnist", data.train().sampleShape());
            batches = new ArrayList<>();
            try (BatchStream stream = BatchStream.all(data.train(), data.train().labels(), s.batchSize())) {
                stream.forEachRemaining(batches::add);
            }
        } else {
            input = new Input("synthetic", s.input());
            batches = new ArrayList<>();
            new SyntheticBatches(s.input(), 10, s.seed()).batches(IntStream.range(0, s.samples()).toArray(), s.batchSize())
                    .forEachRemaining(batches::add);
        }
        int samples = batches.stream().mapToInt(Batch::size).sum();
        int loopSamples = Math.min(s.loopSamples(), samples); // Fashion-MNIST may hold fewer than --samples
        List<Batch> loopBatches = firstSamples(batches, loopSamples);
        ZooConfig config = ZooConfig.defaults(input.shape()[0], input.shape()[1], 10).withWidth(s.width());
        try (ZooModel model = ZooModel.create(s.arch(), config, s.seed())) {
            if (kernels.unwrap() instanceof CudaKernels cuda && Libtorch.cudaAvailable()) { // as bench e2e and lethe forget
                model.toCuda(cuda.deviceIndex());
            }
            // Warm-up: JIT, libtorch's kernels and thread pools. Not the threaded path: see below. The fast path and
            // the batch pass over every sample, one pass each and more until warmupSeconds have passed: C2 compiles a
            // route's Vector API kernels only after thousands of calls, seconds into a run (with one batch of warm-up
            // the cnn's first timed passes still ran C1 code, and the median of 5 read 0.12 s where the route takes
            // 0.07). The loop, libtorch's calls, on one batch.
            long warmUntil = System.nanoTime() + (long) (s.warmupSeconds() * 1e9);
            int warmupPasses = 0;
            while (warmupPasses < 1 || (System.nanoTime() < warmUntil && warmupPasses < 100)) {
                warmupPasses++;
                pass(model, kernels, batches, Estimator.PER_SAMPLE, PerSamplePath.BATCHED, s.batchSize(), s.workers());
                pass(model, kernels, batches, Estimator.BATCH, null, s.batchSize(), s.workers());
            }
            List<Batch> first = batches.subList(0, 1);
            pass(model, kernels, first, Estimator.PER_SAMPLE, PerSamplePath.LOOP, s.batchSize());

            double[] fast = new double[s.repetitions()];
            double[] loop = new double[s.repetitions()];
            double[] batchPass = new double[s.repetitions()];
            Importance fastResult = null;
            Importance loopResult = null;
            for (int r = 0; r < s.repetitions(); r++) { // interleaved, so machine noise hits every path alike
                long t = System.nanoTime();
                fastResult = pass(model, kernels, batches, Estimator.PER_SAMPLE, PerSamplePath.BATCHED, s.batchSize(), s.workers());
                fast[r] = seconds(t);
                t = System.nanoTime();
                loopResult = pass(model, kernels, loopBatches, Estimator.PER_SAMPLE, PerSamplePath.LOOP, s.batchSize());
                loop[r] = seconds(t);
                t = System.nanoTime();
                pass(model, kernels, batches, Estimator.BATCH, null, s.batchSize(), s.workers());
                batchPass[r] = seconds(t);
            }
            // The comparison is over the loop's samples: an untimed fast pass over them when they are not all.
            Importance fastOnLoopSamples = loopSamples == samples ? fastResult
                    : pass(model, kernels, loopBatches, Estimator.PER_SAMPLE, PerSamplePath.BATCHED, s.batchSize(), s.workers());
            double worst = 0;
            String worstTensor = "";
            for (int i = 0; i < fastOnLoopSamples.sums().length; i++) {
                double rel = relativeDifference(fastOnLoopSamples.sums()[i], loopResult.sums()[i]);
                if (rel >= worst) {
                    worst = rel;
                    worstTensor = model.parameters().get(i).name();
                }
            }
            // The threaded loop last, warmed up only here: each of its threads runs libtorch with an OpenMP team of
            // its own, and while more OpenMP threads exist than cores libgomp stops spinning between parallel regions
            // (see PerSampleThreads), so nothing else is timed while or right after it runs.
            Double threadedS = null; // not timed (--skip-threaded): null in the JSON, not the string "NaN"
            if (s.threaded()) {
                pass(model, kernels, first, Estimator.PER_SAMPLE, PerSamplePath.THREADED, s.batchSize());
                double[] threaded = new double[s.repetitions()];
                for (int r = 0; r < s.repetitions(); r++) {
                    long t = System.nanoTime();
                    pass(model, kernels, loopBatches, Estimator.PER_SAMPLE, PerSamplePath.THREADED, s.batchSize());
                    threaded[r] = seconds(t);
                }
                threadedS = median(threaded);
            }
            double fastS = median(fast);
            double loopS = median(loop);
            double batchS = median(batchPass);
            double loopOverFast = (loopS / loopSamples) / (fastS / samples);
            return new Report(s.arch(), model.description() + ", " + model.parameterCount() + " parameters", input, samples,
                    loopSamples, s.batchSize(), kernels.description(), model.placement(), s.repetitions(), fastResult.computation(),
                    fastS, loopS, threadedS, batchS, loopOverFast, fastS / batchS, worst, worstTensor,
                    estimator(kernels, Estimator.PER_SAMPLE, PerSamplePath.BATCHED, s.workers()).workersFor(model, PerSamplePath.BATCHED).count(),
                    estimator(kernels, Estimator.BATCH, null, s.workers()).workersFor(model, null).count(), warmupPasses);
        }
    }

    /** The first {@code k} samples of {@code batches}, in the same batches (the last one cut short). */
    static List<Batch> firstSamples(List<Batch> batches, int k) {
        List<Batch> out = new ArrayList<>();
        int left = k;
        for (Batch b : batches) {
            if (left == 0) {
                break;
            }
            Batch part = b.first(Math.min(left, b.size()));
            out.add(part);
            left -= part.size();
        }
        return out;
    }

    private static Importance pass(ZooModel model, Kernels kernels, List<Batch> batches, Estimator estimator,
                                   PerSamplePath path, int batchSize) {
        return pass(model, kernels, batches, estimator, path, batchSize, 1);
    }

    private static Importance pass(ZooModel model, Kernels kernels, List<Batch> batches, Estimator estimator,
                                   PerSamplePath path, int batchSize, int workers) {
        Provenance p = new Provenance(model.fingerprint(), estimator, batchSize, "bench", "full", "file", "");
        return estimator(kernels, estimator, path, workers).estimate(model, batches.iterator(), batches.size(), "bench", p);
    }

    /** 0 workers: the estimator's default. */
    private static ImportanceEstimator estimator(Kernels kernels, Estimator estimator, PerSamplePath path, int workers) {
        return new ImportanceEstimator(estimator, kernels, null).perSamplePath(path)
                .workers(workers == 0 ? null : new ai.lethe.importance.Workers(workers, null));
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
