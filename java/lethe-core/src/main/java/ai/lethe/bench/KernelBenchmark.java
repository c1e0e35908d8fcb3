package ai.lethe.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.kernels.cuda.CudaKernels;

/**
 * Times every kernel over one parameter list and compares its achieved bandwidth with a plain copy of
 * the same buffers measured in the same run: on the CPU the back end's own parallel array copy, on CUDA a
 * device-to-device cudaMemcpy. Each repetition times the copy and then the kernel back to back, so both
 * see the same machine load; the reported figures are medians.
 */
public final class KernelBenchmark {

    /** One kernel's result. Bandwidth counts the bytes ALGORITHMS.md section 4 says the kernel must move. */
    public record Result(String name, double ms, double gbps, double copyGbps, double ratioToCopy, double bytesPerParam) {
    }

    /** The whole run. */
    public record Report(String backend, String description, long params, int tensors, int repetitions,
                         List<Result> kernels) {
    }

    private static final long WARMUP_NANOS = 400_000_000L;
    private static final double MIN_SAMPLE_MS = 1.0;

    private final Kernels kernels;
    private final long[] sizes;
    private final int repetitions;

    public KernelBenchmark(Kernels kernels, long[] sizes, int repetitions) {
        if (repetitions < 1) {
            throw new IllegalArgumentException("repetitions must be at least 1");
        }
        this.kernels = kernels;
        this.sizes = sizes.clone();
        this.repetitions = repetitions;
    }

    /** Runs every kernel; {@code progress} receives one line per kernel (may be null). */
    public Report run(java.util.function.Consumer<String> progress) {
        long n = ParameterShapes.total(sizes);
        SplittableRandom random = new SplittableRandom(42);
        float[][] theta = fill(random, false);
        float[][] grad = fill(random, false);
        float[][] importanceFull = fill(random, true);
        float[][] importanceForget = fill(random, true);
        List<Result> results = new ArrayList<>();
        CudaKernels cuda = kernels instanceof CudaKernels c ? c : null;
        try (TensorList w = kernels.upload(theta); TensorList g = kernels.upload(grad);
             TensorList iD = kernels.upload(importanceFull); TensorList iF = kernels.upload(importanceForget);
             TensorList acc = kernels.allocate(sizes); TensorList mask = kernels.allocate(sizes);
             TensorList copySrc = kernels.upload(grad); TensorList copyDst = kernels.allocate(sizes)) {
            DoubleSupplier copy = cuda != null
                    ? () -> cuda.deviceMillis(() -> cuda.memcpy(copySrc, copyDst))
                    : () -> wallMillis(() -> kernels.copy(copySrc, copyDst));
            results.add(measure("copy", 8, copy, copy, progress));
            results.add(measure("accumulate_square", 12, copy,
                    timed(cuda, () -> kernels.accumulateSquare(acc, g, 0.5f)), progress));
            results.add(measure("accumulate_abs", 12, copy,
                    timed(cuda, () -> kernels.accumulateAbs(acc, g, 0.5f)), progress));
            results.add(measure("ssd_dampen", 16, copy, cuda != null
                    ? () -> cuda.deviceMillis(() -> queuedSsd(cuda, w, iD, iF))
                    : () -> wallMillis(() -> kernels.ssdDampen(w, iD, iF, 10f, 1f)), progress));
            results.add(measure("ratio_reset", 20, copy, cuda != null
                    ? () -> cuda.deviceMillis(() -> queuedReset(cuda, w, mask, iF, iD))
                    : () -> wallMillis(() -> kernels.ratioReset(w, mask, iF, iD, 1e-8f, 50f)), progress));
            results.add(measure("ratio_threshold_for_fraction", 24, copy,
                    timed(cuda, () -> kernels.ratioThresholdForFraction(iF, iD, 1e-8f, 0.01)), progress));
            results.add(measure("ratio_shift", 24, copy,
                    timed(cuda, () -> kernels.ratioShift(w, iF, iD, 1f, 1e-9f, 1e-6f)), progress));
            results.add(measure("scale_add", 12, copy, timed(cuda, () -> kernels.scaleAdd(acc, g, 1e-3f)), progress));
            results.add(measure("stats", 4, copy, timed(cuda, () -> kernels.stats(g)), progress));
        }
        return new Report(kernels.name(), kernels.description(), n, sizes.length, repetitions, results);
    }

    private static void queuedSsd(CudaKernels cuda, TensorList w, TensorList iD, TensorList iF) {
        cuda.ssdDampenAsync(w, iD, iF, 10f, 1f);
    }

    private static void queuedReset(CudaKernels cuda, TensorList w, TensorList mask, TensorList iF, TensorList iD) {
        cuda.ratioResetAsync(w, mask, iF, iD, 1e-8f, 50f);
    }

    private DoubleSupplier timed(CudaKernels cuda, Runnable work) {
        return cuda != null ? () -> cuda.deviceMillis(work) : () -> wallMillis(work);
    }

    private Result measure(String name, double bytesPerParam, DoubleSupplier copy, DoubleSupplier kernel,
                           java.util.function.Consumer<String> progress) {
        long n = ParameterShapes.total(sizes);
        // Warm-up by time, not by count: the JIT must have compiled the loops (interpreted Vector API code
        // is orders of magnitude slower), caches and first-touch pages settle, GPU clocks ramp up.
        double warmKernel = Double.MAX_VALUE;
        long warmUntil = System.nanoTime() + WARMUP_NANOS;
        for (int i = 0; i < 3 || System.nanoTime() < warmUntil; i++) {
            copy.getAsDouble();
            warmKernel = Math.min(warmKernel, kernel.getAsDouble());
        }
        // Short kernels: time several calls per sample so the clock's resolution does not dominate.
        int inner = (int) Math.max(1, Math.min(10_000, Math.ceil(MIN_SAMPLE_MS / Math.max(warmKernel, 1e-6))));
        double[] copyMs = new double[repetitions];
        double[] kernelMs = new double[repetitions];
        for (int i = 0; i < repetitions; i++) {
            copyMs[i] = repeat(copy, inner);
            kernelMs[i] = repeat(kernel, inner);
        }
        double ms = median(kernelMs);
        double copyGbps = 8.0 * n / (median(copyMs) * 1e6);
        double gbps = bytesPerParam * n / (ms * 1e6);
        Result r = new Result(name, ms, gbps, copyGbps, gbps / copyGbps, bytesPerParam);
        if (progress != null) {
            progress.accept(String.format("%-30s %9.3f ms %8.1f GB/s  (copy %6.1f GB/s, ratio %.2f)", name, ms, gbps,
                    copyGbps, r.ratioToCopy()));
        }
        return r;
    }

    /** Mean milliseconds per call over {@code times} consecutive calls. */
    private static double repeat(DoubleSupplier work, int times) {
        double total = 0;
        for (int i = 0; i < times; i++) {
            total += work.getAsDouble();
        }
        return total / times;
    }

    private static double wallMillis(Runnable work) {
        long t0 = System.nanoTime();
        work.run();
        return (System.nanoTime() - t0) / 1e6;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }

    private float[][] fill(SplittableRandom r, boolean positive) {
        float[][] out = new float[sizes.length][];
        for (int t = 0; t < sizes.length; t++) {
            float[] a = new float[Math.toIntExact(sizes[t])];
            for (int j = 0; j < a.length; j++) {
                double v = r.nextDouble(-1, 1);
                a[j] = (float) (positive ? v * v * 1e-3 : v * 0.05);
            }
            out[t] = a;
        }
        return out;
    }
}
