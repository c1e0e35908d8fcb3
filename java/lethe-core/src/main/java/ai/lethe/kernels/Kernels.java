package ai.lethe.kernels;

/**
 * The hot loops of unlearning, over whole lists of fp32 tensors (a model's parameters, gradients or
 * importances). Three back ends implement it and must agree: {@link ScalarKernels} (the readable
 * reference), {@link VectorKernels} (JDK Vector API, all cores) and {@code cuda.CudaKernels}.
 *
 * <p>Every list argument must come from this back end ({@link #allocate}, {@link #upload}, or a view
 * such as {@link HostTensors#wrap} for the CPU back ends) and lists passed to one call must have the
 * same tensor sizes; anything else is an {@link IllegalArgumentException} that names the kernel. Those checks
 * are made in one place, {@link CheckedKernels}, which every back end extends. Semantics are specified in
 * docs/algorithms.md (sections 2, 3 and 5; the cost model in 6); the comments below give the exact per-element rule.
 */
public interface Kernels extends AutoCloseable {

    /** Back-end name: {@code scalar}, {@code vector} or {@code cuda}. */
    String name();

    /** What the back end runs on, for reports (for example the GPU's name or the vector width). */
    String description();

    /**
     * True when tensors live in Java arrays, so {@link HostTensors#wrap} views of host data can be passed to
     * the kernels directly; false when data must be uploaded first (CUDA).
     */
    boolean hostMemory();

    // ---- memory ---------------------------------------------------------------------------------

    /** Zero-filled tensors of the given sizes. */
    TensorList allocate(long... sizes);

    /** New tensors holding copies of the given host arrays. */
    TensorList upload(float[]... host);

    /** Copies host arrays into existing tensors of the same sizes. */
    void upload(float[][] host, TensorList dst);

    /** Copies tensors into host arrays of the same sizes. */
    void download(TensorList src, float[][] host);

    /** New host arrays holding copies of the tensors. */
    default float[][] download(TensorList src) {
        float[][] host = new float[src.count()][];
        for (int i = 0; i < host.length; i++) {
            host[i] = new float[HostTensors.checkedSize(src.size(i))];
        }
        download(src, host);
        return host;
    }

    // ---- element-wise helpers -------------------------------------------------------------------

    /** dst = src. Also the bandwidth baseline that benchmarks compare the kernels against. */
    void copy(TensorList src, TensorList dst);

    /** x = value. */
    void fill(TensorList x, float value);

    /** x = a·x. */
    void scale(TensorList x, float a);

    /**
     * dst = src / divisor, in fp32 with correct rounding (not a multiplication by the reciprocal): how an importance's
     * sum becomes its value in the kernels' memory, bit for bit as {@code Importance.values()} divides on the host.
     */
    void divide(TensorList dst, TensorList src, float divisor);

    /** y = y + a·x. */
    void scaleAdd(TensorList y, TensorList x, float a);

    /**
     * One SGD step with PyTorch's semantics (dampening 0, no Nesterov): {@code d = g + weightDecay·θ},
     * {@code d = d·mask} when a mask is given (null = none), {@code v = momentum·v + d}, {@code θ = θ − lr·v}.
     * With a 0/1 mask, elements outside it keep θ and v.
     */
    void sgdStep(TensorList theta, TensorList velocity, TensorList grad, TensorList mask, float lr, float momentum,
                 float weightDecay);

    // ---- importance accumulation ----------------------------------------------------------------

    /**
     * acc = acc + scale·(g·g): the squared-gradient (diagonal Fisher) accumulation. Also counts the NaN/Inf
     * elements of g, see {@link #takeGradientNonFinite}.
     */
    void accumulateSquare(TensorList acc, TensorList g, float scale);

    /** acc = acc + scale·|g|: the label-free (LFSSD) accumulation. Also counts the NaN/Inf elements of g. */
    void accumulateAbs(TensorList acc, TensorList g, float scale);

    /**
     * The number of NaN/Inf gradient elements that {@link #accumulateSquare} and {@link #accumulateAbs} met since
     * the last call, which resets it. The accumulate kernels count as they go, so a pass checks its gradients with
     * this one read (a synchronisation on CUDA) where and as often as it chooses, not with a stats call per batch.
     */
    long takeGradientNonFinite();

    /**
     * Per-sample gradients of a convolution (ALGORITHMS.md section 1), squared or absolute and summed: for every
     * sample n of the block, W_n = G_n · U_nᵀ with G_n = g[n] (rows × positions) and U_n = u[n] (cols × positions,
     * the unfolded input), then {@code acc = acc + Σ_n W_n∘W_n}, or {@code + Σ_n |W_n|} when {@code absolute}.
     * Each list holds one tensor, row-major: g of samples·rows·positions, u of samples·cols·positions, acc of
     * rows·cols floats. W_n is never stored whole: back ends square each element as they form it.
     */
    void accumulatePerSampleProducts(TensorList acc, TensorList g, TensorList u, int samples, int rows, int cols,
                                     int positions, boolean absolute);

    /**
     * {@link #accumulatePerSampleProducts} for a convolution read from its input directly, with no unfolded copy:
     * for every sample n, W_n[o][c][ky][kx] = Σ over output positions (y, x) of g[n][y][x][o] ·
     * a[n][y·stride − padding + ky][x·stride − padding + kx][c] (zero outside the input), then
     * {@code acc = acc + Σ_n W_n∘W_n}, or {@code + Σ_n |W_n|} when {@code absolute}. Channels-last operands, one
     * tensor each: a of {@link ConvGeometry#inputSize()}, g of {@link ConvGeometry#outputSize()}, acc of
     * {@link ConvGeometry#weightSize()} floats laid out as the weight [out][in][ky][kx].
     */
    void accumulateConvPerSampleProducts(TensorList acc, TensorList g, TensorList a, ConvGeometry conv, boolean absolute);

    // ---- updates --------------------------------------------------------------------------------

    /**
     * Selective Synaptic Dampening: where {@code iF > alpha·iD} (strict), {@code theta = theta·min(lambda·iD/iF, 1)};
     * elsewhere theta is unchanged and nothing is divided. {@code iD = 0 < iF} zeroes the weight.
     *
     * @return the number of selected (dampened) elements
     */
    long ssdDampen(TensorList theta, TensorList importanceFull, TensorList importanceForget, float alpha, float lambda);

    /**
     * DeepClean reset: with {@code r = iF / (iR + epsilon)}, where {@code r > gamma} sets theta to 0 and mask
     * to 1; elsewhere theta is unchanged and mask is 0.
     *
     * @return the number of reset elements
     */
    long ratioReset(TensorList theta, TensorList mask, TensorList importanceForget, TensorList importanceRetain,
                    float epsilon, float gamma);

    /**
     * One radix-select pass over the ratios {@code r = iF / (iR + epsilon)}: a histogram of
     * {@code bits} bits of {@link RatioKeys#key}, starting at bit {@code shift}, counting only elements
     * whose key equals {@code prefix} on the bits of {@code prefixMask}.
     */
    long[] ratioHistogram(TensorList importanceForget, TensorList importanceRetain, float epsilon,
                          int shift, int bits, int prefix, int prefixMask);

    /**
     * The threshold γ that makes {@link #ratioReset} select the top fraction {@code fraction} of all elements
     * by {@code r = iF / (iR + epsilon)}: with k = round(fraction·N), γ is the float just below the k-th
     * largest ratio, so at least k elements (more only on ties) have {@code r > γ}. k = 0 gives +∞. NaN ratios
     * (0/0 with epsilon 0) rank lowest and are never selected: when k counts past every other ratio, γ is
     * -Float.MAX_VALUE (every non-NaN ratio is selected).
     * Found by a three-pass radix select over histograms, never a sort.
     */
    default float ratioThresholdForFraction(TensorList importanceForget, TensorList importanceRetain, float epsilon,
                                            double fraction) {
        return RadixSelect.thresholdForFraction(importanceForget.totalSize(), fraction,
                (shift, bits, prefix, mask) ->
                        ratioHistogram(importanceForget, importanceRetain, epsilon, shift, bits, prefix, mask));
    }

    /**
     * The Mnemonic-code one-shot update, per tensor l: {@code eta = exp(ln fF - ln fR)}, computed as the quotient
     * {@code fF / fR} in double and rounded once to float; where d = ln fF − ln fR is NaN (an input NaN or negative,
     * 0/0, ∞/∞) eta = 1, where it is ±∞ (exactly one input 0 or +∞) eta = the largest finite eta of the tensor (1 if
     * none); {@code alpha_l = min(lambda1, lambda2 / max eta)}; {@code w = w + sign·alpha_l·eta} (computed as
     * {@code w ± (alpha_l·eta)} in fp32).
     *
     * @return alpha_l for every tensor
     */
    float[] ratioShift(TensorList w, TensorList fisherForget, TensorList fisherRetain, float sign, float lambda1,
                       float lambda2);

    /** Per-tensor statistics: count, sum and max of the finite values, count of NaN/Inf values. */
    TensorStats[] stats(TensorList x);

    /** The back end that does the work, when this one wraps it (profiling); itself otherwise. */
    default Kernels unwrap() {
        return this;
    }

    /** Releases the back end's resources (device context, worker threads). */
    @Override
    void close();
}
