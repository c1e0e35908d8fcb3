package ai.lethe.profile;

import java.util.LinkedHashMap;
import java.util.Map;

import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.kernels.TensorStats;
import ai.lethe.kernels.cuda.CudaKernels;

/**
 * A kernel back end that records every call as a "kernel" span with the bytes it must move (the cost
 * model of docs/algorithms.md, section 6), so the profile can report per-kernel call counts, time and GB/s. Only installed
 * while profiling: outside a profile the kernels run undecorated. CUDA kernels are queued on a stream and return
 * at once, so on CUDA every recorded call waits for the device before and after: its span is its device time,
 * not the time to queue it (profiling serialises the stream; that is the price of per-call figures).
 */
public final class ProfilingKernels implements Kernels {

    private final Kernels inner;
    private final CudaKernels cuda;

    public ProfilingKernels(Kernels inner) {
        this.inner = inner;
        this.cuda = inner instanceof CudaKernels c ? c : null;
    }

    public Kernels inner() {
        return inner;
    }

    @Override
    public Kernels unwrap() {
        return inner.unwrap();
    }

    private Profiler.Span kernel(String name, long elements, int bytesPerElement) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("elements", elements);
        args.put("bytes", elements * bytesPerElement);
        return onDevice(() -> Profiler.span(name, "kernel", args));
    }

    /** On CUDA: work queued earlier is not this call's, and this call is not over until the device is done. */
    private Profiler.Span onDevice(java.util.function.Supplier<Profiler.Span> open) {
        if (cuda == null) {
            return open.get();
        }
        cuda.synchronize();
        Profiler.Span span = open.get();
        return () -> {
            cuda.synchronize();
            span.close();
        };
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public String description() {
        return inner.description();
    }

    @Override
    public boolean hostMemory() {
        return inner.hostMemory();
    }

    @Override
    public TensorList allocate(long... sizes) {
        return inner.allocate(sizes);
    }

    @Override
    public TensorList upload(float[]... host) {
        long n = 0;
        for (float[] a : host) {
            n += a.length;
        }
        try (Profiler.Span s = inner.hostMemory() ? kernel("copy_in", n, 8) : onDevice(() -> Profiler.span("h2d"))) {
            return inner.upload(host);
        }
    }

    @Override
    public void upload(float[][] host, TensorList dst) {
        try (Profiler.Span s = inner.hostMemory() ? kernel("copy_in", dst.totalSize(), 8) : onDevice(() -> Profiler.span("h2d"))) {
            inner.upload(host, dst);
        }
    }

    @Override
    public void download(TensorList src, float[][] host) {
        try (Profiler.Span s = kernel("copy_out", src.totalSize(), 8)) {
            inner.download(src, host);
        }
    }

    @Override
    public void copy(TensorList src, TensorList dst) {
        try (Profiler.Span s = kernel("copy", src.totalSize(), 8)) {
            inner.copy(src, dst);
        }
    }

    @Override
    public void fill(TensorList x, float value) {
        try (Profiler.Span s = kernel("fill", x.totalSize(), 4)) {
            inner.fill(x, value);
        }
    }

    @Override
    public void scale(TensorList x, float a) {
        try (Profiler.Span s = kernel("scale", x.totalSize(), 8)) {
            inner.scale(x, a);
        }
    }

    @Override
    public void divide(TensorList dst, TensorList src, float divisor) {
        try (Profiler.Span s = kernel("divide", dst.totalSize(), 8)) {
            inner.divide(dst, src, divisor);
        }
    }

    @Override
    public void scaleAdd(TensorList y, TensorList x, float a) {
        try (Profiler.Span s = kernel("scale_add", y.totalSize(), 12)) {
            inner.scaleAdd(y, x, a);
        }
    }

    @Override
    public void sgdStep(TensorList theta, TensorList velocity, TensorList grad, TensorList mask, float lr, float momentum,
                        float weightDecay) {
        try (Profiler.Span s = kernel("sgd_step", theta.totalSize(), mask == null ? 20 : 24)) {
            inner.sgdStep(theta, velocity, grad, mask, lr, momentum, weightDecay);
        }
    }

    @Override
    public void accumulateSquare(TensorList acc, TensorList g, float scale) {
        try (Profiler.Span s = kernel("accumulate_square", acc.totalSize(), 12)) {
            inner.accumulateSquare(acc, g, scale);
        }
    }

    @Override
    public void accumulateAbs(TensorList acc, TensorList g, float scale) {
        try (Profiler.Span s = kernel("accumulate_abs", acc.totalSize(), 12)) {
            inner.accumulateAbs(acc, g, scale);
        }
    }

    @Override
    public long takeGradientNonFinite() {
        return inner.takeGradientNonFinite();
    }

    @Override
    public void accumulatePerSampleProducts(TensorList acc, TensorList g, TensorList u, int samples, int rows, int cols,
                                            int positions, boolean absolute) {
        long floats = (long) samples * (rows + cols) * positions + 2L * rows * cols;
        try (Profiler.Span s = kernel("per_sample_products", floats, 4)) {
            inner.accumulatePerSampleProducts(acc, g, u, samples, rows, cols, positions, absolute);
        }
    }

    @Override
    public void accumulateConvPerSampleProducts(TensorList acc, TensorList g, TensorList a, ai.lethe.kernels.ConvGeometry conv,
                                                boolean absolute) {
        long floats = conv.outputSize() + conv.inputSize() + 2L * conv.weightSize();
        try (Profiler.Span s = kernel("conv_per_sample_products", floats, 4)) {
            inner.accumulateConvPerSampleProducts(acc, g, a, conv, absolute);
        }
    }

    @Override
    public long ssdDampen(TensorList theta, TensorList importanceFull, TensorList importanceForget, float alpha, float lambda) {
        try (Profiler.Span s = kernel("ssd_dampen", theta.totalSize(), 16)) {
            return inner.ssdDampen(theta, importanceFull, importanceForget, alpha, lambda);
        }
    }

    @Override
    public long ratioReset(TensorList theta, TensorList mask, TensorList importanceForget, TensorList importanceRetain,
                           float epsilon, float gamma) {
        try (Profiler.Span s = kernel("ratio_reset", theta.totalSize(), 20)) {
            return inner.ratioReset(theta, mask, importanceForget, importanceRetain, epsilon, gamma);
        }
    }

    @Override
    public long[] ratioHistogram(TensorList importanceForget, TensorList importanceRetain, float epsilon, int shift, int bits,
                                 int prefix, int prefixMask) {
        try (Profiler.Span s = kernel("ratio_histogram", importanceForget.totalSize(), 8)) {
            return inner.ratioHistogram(importanceForget, importanceRetain, epsilon, shift, bits, prefix, prefixMask);
        }
    }

    @Override
    public float ratioThresholdForFraction(TensorList importanceForget, TensorList importanceRetain, float epsilon,
                                           double fraction) {
        // The passes are recorded one by one through ratioHistogram.
        return Kernels.super.ratioThresholdForFraction(importanceForget, importanceRetain, epsilon, fraction);
    }

    @Override
    public float[] ratioShift(TensorList w, TensorList fisherForget, TensorList fisherRetain, float sign, float lambda1,
                              float lambda2) {
        try (Profiler.Span s = kernel("ratio_shift", w.totalSize(), 24)) {
            return inner.ratioShift(w, fisherForget, fisherRetain, sign, lambda1, lambda2);
        }
    }

    @Override
    public TensorStats[] stats(TensorList x) {
        try (Profiler.Span s = kernel("stats", x.totalSize(), 4)) {
            return inner.stats(x);
        }
    }

    @Override
    public void close() {
        inner.close();
    }
}
