package ai.lethe.kernels;

import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CPU back end: Vector API loops on every core ({@link VectorApiKernels}), or, in a JVM started without
 * {@code --add-modules jdk.incubator.vector} (a program using Lethe as a library, say), the scalar reference with
 * one warning per JVM rather than a NoClassDefFoundError. Results are the same either way (element-wise kernels
 * agree bit for bit); only speed differs.
 *
 * <p>This class names no Vector API type, so it loads in any JVM; the implementation is chosen once, in the
 * constructor, and each kernel call is one delegation to it after the checks.
 */
public final class VectorKernels extends HostKernels {

    private static final Logger LOG = LoggerFactory.getLogger(VectorKernels.class);
    private static final AtomicBoolean WARNED_NO_VECTOR_API = new AtomicBoolean();

    /** Where a test asks for another vector width than the CPU's preferred one: -Dlethe.vector.bits=128|256|512. */
    public static final String BITS_PROPERTY = "lethe.vector.bits";

    private final HostKernels impl;
    private final int threads;

    /** A back end using every available processor. */
    public VectorKernels() {
        this(Runtime.getRuntime().availableProcessors());
    }

    public VectorKernels(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        if (apiAvailable()) {
            this.impl = vectorApi(threads);
            this.threads = threads;
        } else {
            warnNoVectorApi();
            this.impl = new ScalarKernels();
            this.threads = 1;
        }
    }

    /** Whether this JVM resolved the incubating Vector API module, which {@link VectorApiKernels} is written in. */
    public static boolean apiAvailable() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** Says once per JVM that the Vector API is missing and the scalar kernels stand in. */
    static void warnNoVectorApi() {
        if (WARNED_NO_VECTOR_API.compareAndSet(false, true)) {
            LOG.warn("the JDK Vector API is not in this JVM (start it with --add-modules jdk.incubator.vector):"
                    + " using the scalar kernels, which give the same results more slowly");
        }
    }

    /** Kept apart so that only a JVM with the module ever links {@link VectorApiKernels}. */
    private static HostKernels vectorApi(int threads) {
        return new VectorApiKernels(threads);
    }

    /** "vector", or "scalar" where the scalar kernels stand in. */
    @Override
    public String name() {
        return impl.name();
    }

    @Override
    public String description() {
        return impl instanceof ScalarKernels ? impl.description() + ", standing in for the Vector API (not in this JVM)"
                : impl.description();
    }

    /** The threads the kernels run on (1 where the scalar kernels stand in). */
    public int threads() {
        return threads;
    }

    /** The kernels of convolutions followed by max-pool and ReLU, on the same threads (the scalar ones where those stand in). */
    public PooledConvKernels pooledConv() {
        PooledConvKernels p = pooledConv;
        if (p == null) {
            p = impl instanceof ScalarKernels ? PooledConvKernels.scalar() : PooledConvKernels.vector(threads);
            pooledConv = p;
        }
        return p;
    }

    private volatile PooledConvKernels pooledConv;

    @Override
    public void close() {
        impl.close();
    }

    /** The implementation's accumulate kernels count the NaN/Inf gradient values, so the count is read from it. */
    @Override
    public long takeGradientNonFinite() {
        return impl.takeGradientNonFinite();
    }

    // ---- every kernel: checked by CheckedKernels, then run by the implementation -----------------

    @Override
    protected void doCopy(TensorList src, TensorList dst) {
        impl.doCopy(src, dst);
    }

    @Override
    protected void doFill(TensorList x, float value) {
        impl.doFill(x, value);
    }

    @Override
    protected void doScale(TensorList x, float a) {
        impl.doScale(x, a);
    }

    @Override
    protected void doDivide(TensorList dst, TensorList src, float divisor) {
        impl.doDivide(dst, src, divisor);
    }

    @Override
    protected void doScaleAdd(TensorList y, TensorList x, float a) {
        impl.doScaleAdd(y, x, a);
    }

    @Override
    protected void doSgdStep(TensorList theta, TensorList velocity, TensorList grad, TensorList mask, float lr,
                             float momentum, float weightDecay) {
        impl.doSgdStep(theta, velocity, grad, mask, lr, momentum, weightDecay);
    }

    @Override
    protected void doAccumulateSquare(TensorList acc, TensorList g, float scale) {
        impl.doAccumulateSquare(acc, g, scale);
    }

    @Override
    protected void doAccumulateAbs(TensorList acc, TensorList g, float scale) {
        impl.doAccumulateAbs(acc, g, scale);
    }

    @Override
    protected void doAccumulatePerSampleProducts(TensorList acc, TensorList g, TensorList u, int samples, int rows,
                                                 int cols, int positions, boolean absolute) {
        impl.doAccumulatePerSampleProducts(acc, g, u, samples, rows, cols, positions, absolute);
    }

    @Override
    protected void doAccumulateConvPerSampleProducts(TensorList acc, TensorList g, TensorList a, ConvGeometry conv,
                                                     boolean absolute) {
        impl.doAccumulateConvPerSampleProducts(acc, g, a, conv, absolute);
    }

    @Override
    protected long doSsdDampen(TensorList theta, TensorList importanceFull, TensorList importanceForget, float alpha,
                               float lambda) {
        return impl.doSsdDampen(theta, importanceFull, importanceForget, alpha, lambda);
    }

    @Override
    protected long doRatioReset(TensorList theta, TensorList mask, TensorList importanceForget,
                                TensorList importanceRetain, float epsilon, float gamma) {
        return impl.doRatioReset(theta, mask, importanceForget, importanceRetain, epsilon, gamma);
    }

    @Override
    protected long[] doRatioHistogram(TensorList importanceForget, TensorList importanceRetain, float epsilon, int shift,
                                      int bits, int prefix, int prefixMask) {
        return impl.doRatioHistogram(importanceForget, importanceRetain, epsilon, shift, bits, prefix, prefixMask);
    }

    @Override
    protected float[] doRatioShift(TensorList w, TensorList fisherForget, TensorList fisherRetain, float sign,
                                   float lambda1, float lambda2) {
        return impl.doRatioShift(w, fisherForget, fisherRetain, sign, lambda1, lambda2);
    }

    @Override
    protected TensorStats[] doStats(TensorList x) {
        return impl.doStats(x);
    }
}
