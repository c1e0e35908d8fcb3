package ai.lethe.kernels;

/**
 * The per-sample backward of a convolution followed by a 2×2 max-pool and a ReLU (the zoo cnn's blocks), on the host.
 * A max-pool passes each window's gradient to one position, its winner, and the ReLU passes it only where the
 * pooled value is positive: of the convolution's output gradient at most a quarter is non-zero, often an eighth.
 * These kernels work from the pooled gradient and the winners, so the per-sample weight gradients and the input
 * gradient cost a quarter (or less) of the dense products a general convolution backward pays.
 *
 * <p>Two implementations that must agree: {@link #scalar()}, the readable reference (double sums in the backward;
 * the forward in the fp32 order it specifies, so the two agree bit for bit there), and {@link #vector(int)}, Vector
 * API loops (fp32) run over blocks of samples in parallel. There is no CUDA variant:
 * on a GPU the model's backward runs in libtorch on the device and the fused per-sample kernel forms the products.
 *
 * <p>Layouts: channels-last throughout ([sample][row][column][channel]); weights in libtorch's
 * [out][in][ky][kx]; a winner is the position of the window's maximum, 2·dy + dx, stored as a float.
 */
public interface PooledConvKernels {

    /**
     * The 2×2 max-pool (stride 2) of {@code conv} [samples][height][width][channels] followed by a ReLU, into
     * {@code pooled} [samples][height/2][width/2][channels], and each window's winner into {@code winner}: the first
     * position holding the window's maximum in the order (0,0), (0,1), (1,0), (1,1), as libtorch's max-pool picks it.
     * A window holding NaN pools to NaN (its winner is then unspecified).
     */
    void poolRelu(float[] conv, int samples, int height, int width, int channels, float[] pooled, float[] winner);

    /**
     * The convolution's forward followed by {@link #poolRelu}, without its output leaving the kernel: each output
     * value is Σ over (ky, kx, in) in that order (in innermost) of weight × input by fused multiply-adds from zero,
     * plus the bias last — the order in which libtorch's CPU convolution (oneDNN's direct kernel) rounds the zoo cnn's
     * convolutions, so that the winners are libtorch's (the caller checks that on its own machine before relying on
     * it). Padding positions count as zeros.
     *
     * @param input  [samples][inH][inW][in], channels-last
     * @param weight [out][in][k][k], libtorch's layout
     * @param bias   [out]
     * @param pooled [samples][pooledH][pooledW][out], as {@link #poolRelu} writes it; {@code winner} likewise
     */
    void convPoolRelu(PooledConvGeometry geometry, float[] input, float[] weight, float[] bias, float[] pooled, float[] winner);

    /**
     * Adds Σ_n f(W_n) into {@code weightSums} ([out][in][k][k]) and Σ_n f(b_n) into {@code biasSums} ([out]), f the
     * square or (with {@code absolute}) the absolute value, where W_n and b_n are sample n's weight and bias gradient
     * given the gradient at the pooled output; and writes the gradient at the convolution's input into
     * {@code inputGrad} ([samples][inH][inW][in]) unless it is null.
     *
     * @param input      the convolution's input [samples][inH][inW][in]
     * @param weight     the convolution's weight [out][in][k][k]
     * @param pooledGrad the gradient at the ReLU's output [samples][pooledH][pooledW][out]
     * @param pooled     the ReLU's output (where it is not positive, no gradient passes)
     * @param winner     the max-pool's winners, as {@link #poolRelu} gives them
     */
    void backward(PooledConvGeometry geometry, float[] input, float[] weight, float[] pooledGrad, float[] pooled,
                  float[] winner, boolean absolute, float[] weightSums, float[] biasSums, float[] inputGrad);

    /**
     * The {@link HeadKernels} of the same kind, for the network these blocks feed: the vector ones, or the scalar
     * reference beside the scalar reference.
     */
    default HeadKernels head() {
        return HeadKernels.vector();
    }

    /** The same kernels on {@code threads} threads (the scalar reference has one). */
    PooledConvKernels onThreads(int threads);

    /** The scalar reference. */
    static PooledConvKernels scalar() {
        return ScalarPooledConv.INSTANCE;
    }

    /**
     * Vector API kernels splitting samples over {@code threads} tasks, or the scalar reference in a JVM without the
     * Vector API module.
     */
    static PooledConvKernels vector(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        if (!VectorKernels.apiAvailable()) {
            VectorKernels.warnNoVectorApi();
            return scalar();
        }
        return VectorPooledConv.create(threads);
    }

    /** Throws unless the arrays hold what the geometry says (longer arrays are allowed: scratch is reused). */
    static void checkSizes(PooledConvGeometry g, float[] input, float[] weight, float[] pooledGrad, float[] pooled, float[] winner,
                           float[] weightSums, float[] biasSums, float[] inputGrad) {
        long in = (long) g.samples() * g.inputPerSample();
        long out = (long) g.samples() * g.pooledPerSample();
        require("input", input, in);
        require("weight", weight, g.weightSize());
        require("pooled gradient", pooledGrad, out);
        require("pooled output", pooled, out);
        require("winners", winner, out);
        require("weight sums", weightSums, g.weightSize());
        require("bias sums", biasSums, g.outChannels());
        if (inputGrad != null) {
            require("input gradient", inputGrad, in);
        }
    }

    /** Throws unless the arrays hold what {@link #convPoolRelu} reads and writes. */
    static void checkForwardSizes(PooledConvGeometry g, float[] input, float[] weight, float[] bias, float[] pooled, float[] winner) {
        long out = (long) g.samples() * g.pooledPerSample();
        require("input", input, (long) g.samples() * g.inputPerSample());
        require("weight", weight, g.weightSize());
        require("bias", bias, g.outChannels());
        require("pooled output", pooled, out);
        require("winners", winner, out);
    }

    private static void require(String what, float[] a, long size) {
        if (a.length < size) {
            throw new IllegalArgumentException("pooled convolution: " + what + " holds " + a.length + " floats, needs " + size);
        }
    }

    /** Throws unless {@code conv}, {@code pooled} and {@code winner} hold the sizes {@link #poolRelu} reads and writes. */
    static void checkPoolSizes(float[] conv, int samples, int height, int width, int channels, float[] pooled, float[] winner) {
        if (samples < 0 || height < 2 || width < 2 || height % 2 != 0 || width % 2 != 0 || channels < 1) {
            throw new IllegalArgumentException("2x2 max-pool: needs an even height and width and a channel, got " + samples + " samples of "
                    + height + "x" + width + "x" + channels);
        }
        long in = (long) samples * height * width * channels;
        require("convolution output", conv, in);
        require("pooled output", pooled, in / 4);
        require("winners", winner, in / 4);
    }
}
