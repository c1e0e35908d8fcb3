package ai.lethe.kernels;

/**
 * The one layer that checks kernel arguments. Every kernel of {@link Kernels} is final here: it checks that each
 * list belongs to this back end ({@link #requireOwned}) and that the lists of one call have the same tensor sizes,
 * with an {@link IllegalArgumentException} that names the kernel otherwise, and only then runs the back end's
 * {@code doX}, which takes its arguments as checked. A back end cannot leave a kernel unchecked.
 */
public abstract class CheckedKernels implements Kernels {

    /** Throws {@link IllegalArgumentException} unless this back end can work on {@code list}. */
    protected abstract void requireOwned(String kernel, TensorList list);

    /** Every list owned by this back end, and every list the sizes of the first. */
    protected final void requireArguments(String kernel, TensorList first, TensorList... others) {
        requireOwned(kernel, first);
        for (TensorList other : others) {
            requireOwned(kernel, other);
        }
        Shapes.requireSameShape(kernel, first, others);
    }

    // ---- memory ---------------------------------------------------------------------------------

    @Override
    public final void upload(float[][] host, TensorList dst) {
        requireOwned("upload", dst);
        Shapes.requireSameShape("upload", dst, host);
        doUpload(host, dst);
    }

    @Override
    public final void download(TensorList src, float[][] host) {
        requireOwned("download", src);
        Shapes.requireSameShape("download", src, host);
        doDownload(src, host);
    }

    protected abstract void doUpload(float[][] host, TensorList dst);

    protected abstract void doDownload(TensorList src, float[][] host);

    // ---- element-wise helpers -------------------------------------------------------------------

    @Override
    public final void copy(TensorList src, TensorList dst) {
        requireArguments("copy", src, dst);
        doCopy(src, dst);
    }

    @Override
    public final void fill(TensorList x, float value) {
        requireArguments("fill", x);
        doFill(x, value);
    }

    @Override
    public final void scale(TensorList x, float a) {
        requireArguments("scale", x);
        doScale(x, a);
    }

    @Override
    public final void divide(TensorList dst, TensorList src, float divisor) {
        requireArguments("divide", dst, src);
        doDivide(dst, src, divisor);
    }

    @Override
    public final void scaleAdd(TensorList y, TensorList x, float a) {
        requireArguments("scaleAdd", y, x);
        doScaleAdd(y, x, a);
    }

    @Override
    public final void sgdStep(TensorList theta, TensorList velocity, TensorList grad, TensorList mask, float lr, float momentum,
                              float weightDecay) {
        if (mask == null) {
            requireArguments("sgdStep", theta, velocity, grad);
        } else {
            requireArguments("sgdStep", theta, velocity, grad, mask);
        }
        doSgdStep(theta, velocity, grad, mask, lr, momentum, weightDecay);
    }

    protected abstract void doCopy(TensorList src, TensorList dst);

    protected abstract void doFill(TensorList x, float value);

    protected abstract void doScale(TensorList x, float a);

    protected abstract void doDivide(TensorList dst, TensorList src, float divisor);

    protected abstract void doScaleAdd(TensorList y, TensorList x, float a);

    protected abstract void doSgdStep(TensorList theta, TensorList velocity, TensorList grad, TensorList mask, float lr,
                                      float momentum, float weightDecay);

    // ---- importance accumulation ----------------------------------------------------------------

    @Override
    public final void accumulateSquare(TensorList acc, TensorList g, float scale) {
        requireArguments("accumulateSquare", acc, g);
        doAccumulateSquare(acc, g, scale);
    }

    @Override
    public final void accumulateAbs(TensorList acc, TensorList g, float scale) {
        requireArguments("accumulateAbs", acc, g);
        doAccumulateAbs(acc, g, scale);
    }

    @Override
    public final void accumulatePerSampleProducts(TensorList acc, TensorList g, TensorList u, int samples, int rows,
                                                  int cols, int positions, boolean absolute) {
        for (TensorList list : new TensorList[] {acc, g, u}) {
            requireOwned("accumulatePerSampleProducts", list);
        }
        Shapes.requirePerSampleProducts(acc, g, u, samples, rows, cols, positions);
        doAccumulatePerSampleProducts(acc, g, u, samples, rows, cols, positions, absolute);
    }

    @Override
    public final void accumulateConvPerSampleProducts(TensorList acc, TensorList g, TensorList a, ConvGeometry conv,
                                                      boolean absolute) {
        for (TensorList list : new TensorList[] {acc, g, a}) {
            requireOwned("accumulateConvPerSampleProducts", list);
        }
        Shapes.requireConvProducts(acc, g, a, conv);
        if (conv.weightSize() == 0 || conv.outputSize() == 0) {
            return; // every W_n is empty or zero: nothing to add
        }
        doAccumulateConvPerSampleProducts(acc, g, a, conv, absolute);
    }

    /** NaN/Inf gradient elements met by the host back ends' accumulate kernels (CUDA keeps its count on the device). */
    protected final java.util.concurrent.atomic.AtomicLong gradientNonFinite = new java.util.concurrent.atomic.AtomicLong();

    @Override
    public long takeGradientNonFinite() {
        return gradientNonFinite.getAndSet(0);
    }

    protected abstract void doAccumulateSquare(TensorList acc, TensorList g, float scale);

    protected abstract void doAccumulateAbs(TensorList acc, TensorList g, float scale);

    protected abstract void doAccumulatePerSampleProducts(TensorList acc, TensorList g, TensorList u, int samples,
                                                          int rows, int cols, int positions, boolean absolute);

    protected abstract void doAccumulateConvPerSampleProducts(TensorList acc, TensorList g, TensorList a, ConvGeometry conv,
                                                              boolean absolute);

    // ---- updates --------------------------------------------------------------------------------

    @Override
    public final long ssdDampen(TensorList theta, TensorList importanceFull, TensorList importanceForget, float alpha,
                                float lambda) {
        requireArguments("ssdDampen", theta, importanceFull, importanceForget);
        return doSsdDampen(theta, importanceFull, importanceForget, alpha, lambda);
    }

    @Override
    public final long ratioReset(TensorList theta, TensorList mask, TensorList importanceForget, TensorList importanceRetain,
                                 float epsilon, float gamma) {
        requireArguments("ratioReset", theta, mask, importanceForget, importanceRetain);
        return doRatioReset(theta, mask, importanceForget, importanceRetain, epsilon, gamma);
    }

    @Override
    public final long[] ratioHistogram(TensorList importanceForget, TensorList importanceRetain, float epsilon, int shift,
                                       int bits, int prefix, int prefixMask) {
        requireArguments("ratioHistogram", importanceForget, importanceRetain);
        if (bits < 1 || bits > 11 || shift < 0 || shift + bits > 32) {
            throw new IllegalArgumentException("ratioHistogram: bits " + bits + " from bit " + shift
                    + " do not lie within a 32-bit key (1 to 11 bits per pass)");
        }
        return doRatioHistogram(importanceForget, importanceRetain, epsilon, shift, bits, prefix, prefixMask);
    }

    @Override
    public final float[] ratioShift(TensorList w, TensorList fisherForget, TensorList fisherRetain, float sign, float lambda1,
                                    float lambda2) {
        requireArguments("ratioShift", w, fisherForget, fisherRetain);
        return doRatioShift(w, fisherForget, fisherRetain, sign, lambda1, lambda2);
    }

    @Override
    public final TensorStats[] stats(TensorList x) {
        requireArguments("stats", x);
        return doStats(x);
    }

    protected abstract long doSsdDampen(TensorList theta, TensorList importanceFull, TensorList importanceForget, float alpha,
                                        float lambda);

    protected abstract long doRatioReset(TensorList theta, TensorList mask, TensorList importanceForget,
                                         TensorList importanceRetain, float epsilon, float gamma);

    protected abstract long[] doRatioHistogram(TensorList importanceForget, TensorList importanceRetain, float epsilon,
                                               int shift, int bits, int prefix, int prefixMask);

    protected abstract float[] doRatioShift(TensorList w, TensorList fisherForget, TensorList fisherRetain, float sign,
                                            float lambda1, float lambda2);

    protected abstract TensorStats[] doStats(TensorList x);
}
