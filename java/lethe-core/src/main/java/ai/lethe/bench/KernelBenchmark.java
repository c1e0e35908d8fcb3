package ai.lethe.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;

import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.kernels.cuda.CudaKernels;

/**
 * Times every kernel over one parameter list and compares its achieved bandwidth with a copy measured in the
 * same run: ONE contiguous copy of the same number of floats (on CUDA a single device-to-device
 * cudaMemcpyAsync timed with events on the kernels' stream; on the CPU the back end's copy over one array), so
 * the baseline is the device's copy bandwidth, not the cost of many small copies. Each repetition times the
 * copy and then the kernel back to back, so both see the same machine load; figures are medians. On CUDA each
 * kernel is also reported as a fraction of the device's peak bandwidth (memory clock × bus width).
 *
 * <p>A second, small list (the bundled CNN's 8 tensors, 105,866 floats) shows the per-call latency of each
 * kernel where launches, not bytes, bound it; on CUDA against one launch of an empty kernel.
 *
 * <p>The fused per-sample products kernel (the per-sample estimator's convolutions) is not elementwise: it is
 * timed on convolution shapes of ResNet-18 at 32×32, its compulsory memory traffic (each sample's output gradient
 * and unfolded input read once, the accumulator read and written once) against the same copy, and its arithmetic
 * rate, which is what bounds it on these shapes.
 */
public final class KernelBenchmark {

    /** One kernel's result. Bandwidth counts the bytes the kernel's passes move (docs/algorithms.md, section 6). */
    public record Result(String name, double ms, double gbps, double copyGbps, double ratioToCopy,
                         Double fractionOfPeak, double bytesPerParam) {
    }

    /** One kernel on the small list: microseconds per call, and the ratio to an empty launch (CUDA only). */
    public record LatencyResult(String name, double microseconds, Double ratioToEmptyLaunch) {
    }

    /** The small list's results. */
    public record SmallList(String shapes, long params, int tensors, Double emptyLaunchMicroseconds,
                            List<LatencyResult> kernels) {
    }

    /**
     * One per-sample products kernel on one convolution shape: Σ over {@code samples} of the squared rows × cols
     * products over {@code positions}. {@code kernel} is "unfold" ({@code accumulatePerSampleProducts} on the
     * unfolded input, the device route) or "direct" ({@code accumulateConvPerSampleProducts} on the channels-last
     * input, the host route); {@code gbps} counts the compulsory traffic (each operand once, the accumulator read and
     * written), {@code gflops} 2·samples·rows·cols·positions.
     */
    public record ProductsResult(String layer, String kernel, int samples, int rows, int cols, int positions, double ms,
                                 double gbps, double copyGbps, double ratioToCopy, double gflops) {
    }

    /** A convolution shape for {@link ProductsResult}: C_in × side × side in, C_out out, a k × k window. */
    public record ProductsShape(String layer, int inChannels, int side, int outChannels, int kernel, int stride, int padding) {

        ai.lethe.kernels.ConvGeometry geometry(int samples) {
            int out = ai.lethe.kernels.ConvGeometry.outSize(side, kernel, stride, padding);
            return new ai.lethe.kernels.ConvGeometry(samples, inChannels, side, side, outChannels, out, out, kernel, stride, padding);
        }
    }

    /** ResNet-18's first and last 3×3 convolutions on 32×32 inputs (CIFAR stem, the comparison). */
    public static final List<ProductsShape> RESNET18_CIFAR_CONVS = List.of(
            new ProductsShape("layer1 conv 64->64 3x3 at 32x32", 64, 32, 64, 3, 1, 1),
            new ProductsShape("layer4 conv 512->512 3x3 at 4x4", 512, 4, 512, 3, 1, 1));

    /** The whole run. {@code peakGbps} is null where the back end does not know its memory's peak (CPU). */
    public record Report(String backend, String description, long params, int tensors, int repetitions,
                         String baseline, Double peakGbps, List<Result> kernels, SmallList smallList,
                         List<ProductsResult> perSampleProducts) {
    }

    private static final long WARMUP_NANOS = 400_000_000L;
    private static final double MIN_SAMPLE_MS = 1.0;
    private static final int LATENCY_CALLS = 200;

    private final Kernels kernels;
    private final long[] sizes;
    private final long[] smallSizes;
    private final int repetitions;
    private final List<ProductsShape> productsShapes;
    private final int productsSamples;

    /**
     * The CLI's run: the small list is the bundled CNN; the per-sample products run on ResNet-18's convolutions
     * with 64 samples on a GPU and 4 on the CPU (a CPU takes a good part of a second per call there).
     */
    public KernelBenchmark(Kernels kernels, long[] sizes, int repetitions) {
        this(kernels, sizes, ParameterShapes.fashionCnn(), repetitions, RESNET18_CIFAR_CONVS, kernels.hostMemory() ? 4 : 64);
    }

    /** {@code smallSizes} may be empty: no small-list section; no per-sample products section. */
    public KernelBenchmark(Kernels kernels, long[] sizes, long[] smallSizes, int repetitions) {
        this(kernels, sizes, smallSizes, repetitions, List.of(), 0);
    }

    /** {@code productsShapes} may be empty: no per-sample products section. */
    public KernelBenchmark(Kernels kernels, long[] sizes, long[] smallSizes, int repetitions, List<ProductsShape> productsShapes,
                           int productsSamples) {
        if (repetitions < 1) {
            throw new IllegalArgumentException("repetitions must be at least 1");
        }
        this.kernels = kernels;
        this.sizes = sizes.clone();
        this.smallSizes = smallSizes.clone();
        this.repetitions = repetitions;
        this.productsShapes = List.copyOf(productsShapes);
        this.productsSamples = productsSamples;
    }

    /** One kernel call on a workload, and the bytes per parameter its passes move. */
    private record Kernel(String name, double bytesPerParam, Runnable call) {
    }

    /** The buffers the kernels run on. */
    private final class Workload implements AutoCloseable {
        final TensorList w;
        final TensorList g;
        final TensorList iD;
        final TensorList iF;
        final TensorList acc;
        final TensorList mask;

        Workload(long[] shape) {
            SplittableRandom random = new SplittableRandom(42);
            w = kernels.upload(fill(random, shape, false));
            g = kernels.upload(fill(random, shape, false));
            iD = kernels.upload(fill(random, shape, true));
            iF = kernels.upload(fill(random, shape, true));
            acc = kernels.allocate(shape);
            mask = kernels.allocate(shape);
        }

        @Override
        public void close() {
            for (TensorList l : new TensorList[] {w, g, iD, iF, acc, mask}) {
                l.close();
            }
        }
    }

    /** Every benchmarked kernel on {@code x}. On CUDA, calls that need no result stay queued (no read-back). */
    private List<Kernel> kernelsOn(Workload x, CudaKernels cuda) {
        return List.of(
                new Kernel("accumulate_square", 12, () -> kernels.accumulateSquare(x.acc, x.g, 0.5f)),
                new Kernel("accumulate_abs", 12, () -> kernels.accumulateAbs(x.acc, x.g, 0.5f)),
                new Kernel("ssd_dampen", 16, cuda != null
                        ? () -> cuda.ssdDampenAsync(x.w, x.iD, x.iF, 10f, 1f)
                        : () -> kernels.ssdDampen(x.w, x.iD, x.iF, 10f, 1f)),
                new Kernel("ratio_reset", 20, cuda != null
                        ? () -> cuda.ratioResetAsync(x.w, x.mask, x.iF, x.iD, 1e-8f, 50f)
                        : () -> kernels.ratioReset(x.w, x.mask, x.iF, x.iD, 1e-8f, 50f)),
                new Kernel("ratio_threshold_for_fraction", 24,
                        () -> kernels.ratioThresholdForFraction(x.iF, x.iD, 1e-8f, 0.01)),
                new Kernel("ratio_shift", 24, () -> kernels.ratioShift(x.w, x.iF, x.iD, 1f, 1e-9f, 1e-6f)),
                new Kernel("scale_add", 12, () -> kernels.scaleAdd(x.acc, x.g, 1e-3f)),
                new Kernel("stats", 4, () -> kernels.stats(x.g)));
    }

    /** Runs every kernel; {@code progress} receives one line per kernel (may be null). */
    public Report run(Consumer<String> progress) {
        long n = ParameterShapes.total(sizes);
        CudaKernels cuda = kernels instanceof CudaKernels c ? c : null;
        double peakGbps = cuda == null ? Double.NaN : cuda.peakBandwidthGbps();
        Double peak = Double.isNaN(peakGbps) ? null : peakGbps;
        List<Result> results = new ArrayList<>();
        List<ProductsResult> products = new ArrayList<>();
        String baseline;
        try (Workload x = new Workload(sizes);
             TensorList copySrc = kernels.upload(fill(new SplittableRandom(7), new long[] {n}, false));
             TensorList copyDst = kernels.allocate(new long[] {n})) {
            DoubleSupplier copy;
            if (cuda != null) {
                copy = () -> cuda.deviceMillis(() -> cuda.memcpy(copySrc, copyDst));
                baseline = String.format("one contiguous device-to-device cudaMemcpyAsync of %,d floats, events on the kernels' stream", n);
            } else {
                copy = () -> wallMillis(() -> kernels.copy(copySrc, copyDst));
                baseline = String.format("the %s back end's copy over one contiguous array of %,d floats", kernels.name(), n);
            }
            results.add(measure("copy", 8, copy, copy, peak, progress));
            for (Kernel k : kernelsOn(x, cuda)) {
                results.add(measure(k.name(), k.bytesPerParam(), copy, timed(cuda, k.call()), peak, progress));
            }
            for (ProductsShape shape : productsShapes) {
                products.addAll(products(shape, copy, n, cuda, progress));
            }
        }
        SmallList small = smallSizes.length == 0 ? null : smallList(cuda, progress);
        return new Report(kernels.name(), kernels.description(), n, sizes.length, repetitions, baseline, peak, results, small,
                products);
    }

    /** Both per-sample products kernels on one shape, against the copy of the main list's {@code copyFloats} floats. */
    private List<ProductsResult> products(ProductsShape shape, DoubleSupplier copy, long copyFloats, CudaKernels cuda,
                                          Consumer<String> progress) {
        int s = productsSamples;
        ai.lethe.kernels.ConvGeometry conv = shape.geometry(s);
        int rows = conv.outChannels();
        int cols = conv.inChannels() * conv.kernel() * conv.kernel();
        int positions = conv.outHeight() * conv.outWidth();
        SplittableRandom random = new SplittableRandom(3);
        List<ProductsResult> out = new ArrayList<>();
        try (TensorList g = kernels.upload(fill(random, new long[] {(long) s * rows * positions}, false));
             TensorList u = kernels.upload(fill(random, new long[] {(long) s * cols * positions}, false));
             TensorList a = kernels.upload(fill(random, new long[] {conv.inputSize()}, false));
             TensorList acc = kernels.allocate((long) rows * cols)) {
            DoubleSupplier unfold = timed(cuda, () -> kernels.accumulatePerSampleProducts(acc, g, u, s, rows, cols, positions, false));
            DoubleSupplier direct = timed(cuda, () -> kernels.accumulateConvPerSampleProducts(acc, g, a, conv, false));
            double floatsUnfold = (double) s * (rows + cols) * positions + 2.0 * rows * cols;
            double floatsDirect = (double) conv.outputSize() + conv.inputSize() + 2.0 * rows * cols;
            out.add(productsResult(shape, "unfold", unfold, floatsUnfold, copy, copyFloats, rows, cols, positions, progress));
            out.add(productsResult(shape, "direct", direct, floatsDirect, copy, copyFloats, rows, cols, positions, progress));
        }
        return out;
    }

    private ProductsResult productsResult(ProductsShape shape, String name, DoubleSupplier kernel, double floats, DoubleSupplier copy,
                                          long copyFloats, int rows, int cols, int positions, Consumer<String> progress) {
        int s = productsSamples;
        // warm-up (JIT, first touch, clocks): C2 compiles the per-tile methods only after thousands of calls, so
        // a few long calls are not enough
        long warmEnd = System.nanoTime() + WARMUP_NANOS;
        do {
            kernel.getAsDouble();
        } while (System.nanoTime() < warmEnd);
        copy.getAsDouble();
        double[] medians = medianPairs(copy, kernel, 1);
        double ms = medians[1];
        double gbps = 4.0 * floats / (ms * 1e6);
        double copyGbps = 8.0 * copyFloats / (medians[0] * 1e6);
        double gflops = 2.0 * s * rows * cols * positions / (ms * 1e6);
        ProductsResult r = new ProductsResult(shape.layer(), name, s, rows, cols, positions, ms, gbps, copyGbps, gbps / copyGbps, gflops);
        if (progress != null) {
            progress.accept(String.format("per_sample_products (%s) %s, %d samples: %9.3f ms %8.1f GB/s  (copy %6.1f GB/s, ratio %.2f), "
                    + "%.1f GFLOP/s", name, shape.layer(), s, ms, gbps, copyGbps, r.ratioToCopy(), gflops));
        }
        return r;
    }

    private SmallList smallList(CudaKernels cuda, Consumer<String> progress) {
        long n = ParameterShapes.total(smallSizes);
        Double empty = null;
        if (cuda != null) {
            cuda.emptyLaunchMillis(LATENCY_CALLS); // warm-up
            double[] samples = new double[repetitions];
            for (int i = 0; i < repetitions; i++) {
                samples[i] = cuda.emptyLaunchMillis(LATENCY_CALLS) * 1e3;
            }
            empty = median(samples);
        }
        if (progress != null) {
            progress.accept(String.format("small list: %d tensors, %,d floats (the bundled CNN)%s", smallSizes.length, n,
                    empty == null ? "" : String.format("; one empty kernel launch %.2f us", empty)));
        }
        List<LatencyResult> results = new ArrayList<>();
        try (Workload x = new Workload(smallSizes)) {
            for (Kernel k : kernelsOn(x, cuda)) {
                DoubleSupplier batch = timed(cuda, () -> {
                    for (int i = 0; i < LATENCY_CALLS; i++) {
                        k.call().run();
                    }
                });
                long warmUntil = System.nanoTime() + WARMUP_NANOS / 4;
                for (int i = 0; i < 3 || System.nanoTime() < warmUntil; i++) {
                    batch.getAsDouble();
                }
                double[] samples = new double[repetitions];
                for (int i = 0; i < repetitions; i++) {
                    samples[i] = batch.getAsDouble() * 1e3 / LATENCY_CALLS;
                }
                double us = median(samples);
                Double ratio = empty == null ? null : us / empty;
                results.add(new LatencyResult(k.name(), us, ratio));
                if (progress != null) {
                    progress.accept(String.format("  %-28s %9.2f us per call%s", k.name(), us,
                            ratio == null ? "" : String.format("  (%.1fx an empty launch)", ratio)));
                }
            }
        }
        return new SmallList("bundled Fashion-MNIST CNN", n, smallSizes.length, empty, results);
    }

    private DoubleSupplier timed(CudaKernels cuda, Runnable work) {
        return cuda != null ? () -> cuda.deviceMillis(work) : () -> wallMillis(work);
    }

    private Result measure(String name, double bytesPerParam, DoubleSupplier copy, DoubleSupplier kernel, Double peakGbps,
                           Consumer<String> progress) {
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
        double[] medians = medianPairs(copy, kernel, inner);
        double ms = medians[1];
        double copyGbps = 8.0 * n / (medians[0] * 1e6);
        double gbps = bytesPerParam * n / (ms * 1e6);
        Double ofPeak = peakGbps == null ? null : gbps / peakGbps;
        Result r = new Result(name, ms, gbps, copyGbps, gbps / copyGbps, ofPeak, bytesPerParam);
        if (progress != null) {
            progress.accept(String.format("%-30s %9.3f ms %8.1f GB/s  (copy %6.1f GB/s, ratio %.2f%s)", name, ms, gbps,
                    copyGbps, r.ratioToCopy(), ofPeak == null ? "" : String.format(", %.2f of peak", ofPeak)));
        }
        return r;
    }

    /**
     * {copy, kernel} median milliseconds per call over the repetitions; each repetition times {@code inner} copies and
     * then {@code inner} kernel calls back to back, so both see the same machine load.
     */
    private double[] medianPairs(DoubleSupplier copy, DoubleSupplier kernel, int inner) {
        double[] copyMs = new double[repetitions];
        double[] kernelMs = new double[repetitions];
        for (int i = 0; i < repetitions; i++) {
            copyMs[i] = repeat(copy, inner);
            kernelMs[i] = repeat(kernel, inner);
        }
        return new double[] {median(copyMs), median(kernelMs)};
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

    private static float[][] fill(SplittableRandom r, long[] shape, boolean positive) {
        float[][] out = new float[shape.length][];
        for (int t = 0; t < shape.length; t++) {
            float[] a = new float[Math.toIntExact(shape[t])];
            for (int j = 0; j < a.length; j++) {
                double v = r.nextDouble(-1, 1);
                a[j] = (float) (positive ? v * v * 1e-3 : v * 0.05);
            }
            out[t] = a;
        }
        return out;
    }
}
