package ai.lethe.kernels;

import java.util.Arrays;
import java.util.stream.IntStream;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link PooledConvKernels} in Vector API loops (fp32), the vector width {@link VectorApiKernels} uses. Samples are
 * split into {@code threads} contiguous ranges run in parallel, each into its own partial sums, added in range order
 * (so a result depends on the thread count, not on scheduling). No vector value lives across a loop iteration: on
 * JDK 17, C2 boxes vectors carried through nested loops with run-time bounds.
 */
final class VectorPooledConv implements PooledConvKernels {

    private static final VectorSpecies<Float> SPECIES = VectorApiKernels.SPECIES;
    private static final VectorSpecies<Integer> INT_SPECIES = VectorApiKernels.INT_SPECIES;
    private static final int ONE_BITS = Float.floatToIntBits(1f), TWO_BITS = Float.floatToIntBits(2f), THREE_BITS = Float.floatToIntBits(3f);
    private static final int LANES = SPECIES.length();
    /** Lane i holds 1 << i (lanes up to 16 used). */
    private static final int[] LANE_BITS = java.util.stream.IntStream.range(0, LANES).map(i -> i < 31 ? 1 << i : 0).toArray();
    /** Below this many multiply-adds a call stays on the calling thread. */
    private static final long PARALLEL_WORK = 1L << 18;

    private final int threads;

    private VectorPooledConv(int threads) {
        this.threads = threads;
    }

    static VectorPooledConv create(int threads) {
        return new VectorPooledConv(threads);
    }

    @Override
    public PooledConvKernels onThreads(int threads) {
        return threads == this.threads ? this : PooledConvKernels.vector(threads);
    }

    @Override
    public void poolRelu(float[] conv, int samples, int height, int width, int channels, float[] pooled, float[] winner) {
        PooledConvKernels.checkPoolSizes(conv, samples, height, width, channels, pooled, winner);
        int ph = height / 2, pw = width / 2;
        int row = width * channels;
        for (int n = 0, out = 0; n < samples; n++) {
            for (int qy = 0; qy < ph; qy++) {
                for (int qx = 0; qx < pw; qx++, out += channels) { // no vector lives across these loops' iterations
                    int at = ((n * height + 2 * qy) * width + 2 * qx) * channels; // the window's top-left element
                    int c = 0;
                    for (int bound = SPECIES.loopBound(channels); c < bound; c += LANES) {
                        FloatVector zero = FloatVector.zero(SPECIES); // made here: JDK 17 boxes vectors live across nested loops
                        FloatVector v0 = FloatVector.fromArray(SPECIES, conv, at + c);
                        FloatVector v1 = FloatVector.fromArray(SPECIES, conv, at + channels + c);
                        FloatVector v2 = FloatVector.fromArray(SPECIES, conv, at + row + c);
                        FloatVector v3 = FloatVector.fromArray(SPECIES, conv, at + row + channels + c);
                        // values by max (NaN-propagating), winners by strict comparisons (a later position wins only if larger)
                        v0.max(v1).max(v2).max(v3).max(zero).intoArray(pooled, out + c);
                        VectorMask<Float> m1 = v1.compare(VectorOperators.GT, v0);
                        FloatVector best = v0.blend(v1, m1);
                        FloatVector win = zero.blend(FloatVector.broadcast(SPECIES, 1f), m1);
                        VectorMask<Float> m2 = v2.compare(VectorOperators.GT, best);
                        best = best.blend(v2, m2);
                        win = win.blend(FloatVector.broadcast(SPECIES, 2f), m2);
                        win.blend(FloatVector.broadcast(SPECIES, 3f), v3.compare(VectorOperators.GT, best)).intoArray(winner, out + c);
                    }
                    for (; c < channels; c++) {
                        poolOne(conv[at + c], conv[at + channels + c], conv[at + row + c], conv[at + row + channels + c], pooled, winner, out + c);
                    }
                }
            }
        }
    }

    /**
     * One channel of one window, as the vector loops pool theirs: the value by max (NaN-propagating) then the ReLU,
     * the winner by strict comparisons (a later position wins only if larger).
     */
    private static void poolOne(float v0, float v1, float v2, float v3, float[] pooled, float[] winner, int at) {
        float best = v0;
        int win = 0;
        if (v1 > best) {
            best = v1;
            win = 1;
        }
        if (v2 > best) {
            best = v2;
            win = 2;
        }
        if (v3 > best) {
            win = 3;
        }
        pooled[at] = Math.max(Math.max(Math.max(v0, v1), Math.max(v2, v3)), 0f);
        winner[at] = win;
    }

    @Override
    public void convPoolRelu(PooledConvGeometry g, float[] input, float[] weight, float[] bias, float[] pooled, float[] winner) {
        PooledConvKernels.checkForwardSizes(g, input, weight, bias, pooled, winner);
        int samples = g.samples();
        if (samples == 0) {
            return;
        }
        int k = g.kernel(), cin = g.inChannels(), cout = g.outChannels(), taps = k * k * cin;
        float[] transposed = new float[g.weightSize()]; // [ky][kx][in][out]: one tap's output channels are one row of lanes
        for (int o = 0; o < cout; o++) {
            for (int c = 0; c < cin; c++) {
                for (int ky = 0; ky < k; ky++) {
                    for (int kx = 0; kx < k; kx++) {
                        transposed[((ky * k + kx) * cin + c) * cout + o] = weight[((o * cin + c) * k + ky) * k + kx];
                    }
                }
            }
        }
        long work = (long) samples * g.pooledPerSample() * 4 * taps;
        int tasks = (int) Math.min(samples, work < PARALLEL_WORK ? 1 : threads);
        java.util.function.IntConsumer task = t -> {
            Forward f = new Forward(g, transposed, bias);
            int from = (int) ((long) samples * t / tasks), to = (int) ((long) samples * (t + 1) / tasks);
            for (int n = from; n < to; n++) {
                f.run(n, input, pooled, winner);
            }
        };
        if (tasks == 1) {
            task.accept(0);
        } else {
            IntStream.range(0, tasks).parallel().forEach(task);
        }
    }

    /**
     * One task's scratch and one sample's fused forward: lanes over output channels; per pooled window the four
     * candidates' sums run as four chains through the taps in the specified order, then pool as {@link #poolRelu}.
     */
    private static final class Forward {
        final PooledConvGeometry g;
        final float[] transposed;
        final float[] bias;
        final int paddedWidth;
        final float[] padded;
        /** Where each tap (ky, kx, in) sits relative to a window's first element in the padded input. */
        final int[] offsets;

        Forward(PooledConvGeometry g, float[] transposed, float[] bias) {
            this.g = g;
            this.transposed = transposed;
            this.bias = bias;
            this.paddedWidth = g.inWidth() + 2 * g.padding();
            this.padded = new float[(g.inHeight() + 2 * g.padding()) * paddedWidth * g.inChannels()]; // the border stays zero
            int k = g.kernel(), cin = g.inChannels();
            this.offsets = new int[k * k * cin];
            for (int ky = 0, e = 0; ky < k; ky++) {
                for (int kx = 0; kx < k; kx++) {
                    for (int c = 0; c < cin; c++, e++) {
                        offsets[e] = (ky * paddedWidth + kx) * cin + c;
                    }
                }
            }
        }

        void run(int n, float[] input, float[] pooled, float[] winner) {
            int cin = g.inChannels(), cout = g.outChannels(), pad = g.padding();
            int rowIn = g.inWidth() * cin;
            for (int y = 0; y < g.inHeight(); y++) {
                System.arraycopy(input, n * g.inputPerSample() + y * rowIn, padded, ((y + pad) * paddedWidth + pad) * cin, rowIn);
            }
            int oBound = SPECIES.loopBound(cout);
            int pw = g.pooledWidth();
            for (int qy = 0, out = n * g.pooledPerSample(); qy < g.pooledHeight(); qy++) {
                for (int qx = 0; qx < pw; ) {
                    int corner = (2 * qy * paddedWidth + 2 * qx) * cin;
                    if (qx + 1 < pw) { // two windows side by side: eight chains, one weight load for both
                        for (int o = 0; o < oBound; o += LANES) {
                            windowPair(corner, o, pooled, winner, out + o, out + cout + o);
                        }
                        for (int o = oBound; o < cout; o++) {
                            windowScalar(corner, o, pooled, winner, out + o);
                            windowScalar(corner + 2 * cin, o, pooled, winner, out + cout + o);
                        }
                        qx += 2;
                        out += 2 * cout;
                    } else {
                        for (int o = 0; o < oBound; o += LANES) {
                            window(corner, o, pooled, winner, out + o);
                        }
                        for (int o = oBound; o < cout; o++) {
                            windowScalar(corner, o, pooled, winner, out + o);
                        }
                        qx++;
                        out += cout;
                    }
                }
            }
        }

        /** Lanes o.. of one window: the four candidates' convolution values, pooled. */
        private void window(int corner, int o, float[] pooled, float[] winner, int at) {
            int cin = g.inChannels(), cout = g.outChannels(), down = paddedWidth * cin;
            FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0;
            for (int e = 0; e < offsets.length; e++) {
                FloatVector wv = FloatVector.fromArray(SPECIES, transposed, e * cout + o);
                int i = corner + offsets[e];
                a0 = wv.fma(FloatVector.broadcast(SPECIES, padded[i]), a0);
                a1 = wv.fma(FloatVector.broadcast(SPECIES, padded[i + cin]), a1);
                a2 = wv.fma(FloatVector.broadcast(SPECIES, padded[i + down]), a2);
                a3 = wv.fma(FloatVector.broadcast(SPECIES, padded[i + down + cin]), a3);
            }
            pool(a0, a1, a2, a3, FloatVector.fromArray(SPECIES, bias, o), pooled, winner, at);
        }

        /**
         * {@link #window} for two windows side by side (the second at {@code corner} + 2·in): four chains were bound
         * by the FMA latency, and the weight vector is loaded once for both.
         */
        private void windowPair(int corner, int o, float[] pooled, float[] winner, int at, int nextAt) {
            int cin = g.inChannels(), cout = g.outChannels(), down = paddedWidth * cin, next = 2 * cin;
            FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int e = 0; e < offsets.length; e++) {
                FloatVector wv = FloatVector.fromArray(SPECIES, transposed, e * cout + o);
                int i = corner + offsets[e];
                a0 = wv.fma(FloatVector.broadcast(SPECIES, padded[i]), a0);
                a1 = wv.fma(FloatVector.broadcast(SPECIES, padded[i + cin]), a1);
                a2 = wv.fma(FloatVector.broadcast(SPECIES, padded[i + down]), a2);
                a3 = wv.fma(FloatVector.broadcast(SPECIES, padded[i + down + cin]), a3);
                b0 = wv.fma(FloatVector.broadcast(SPECIES, padded[i + next]), b0);
                b1 = wv.fma(FloatVector.broadcast(SPECIES, padded[i + next + cin]), b1);
                b2 = wv.fma(FloatVector.broadcast(SPECIES, padded[i + next + down]), b2);
                b3 = wv.fma(FloatVector.broadcast(SPECIES, padded[i + next + down + cin]), b3);
            }
            FloatVector b = FloatVector.fromArray(SPECIES, bias, o);
            pool(a0, a1, a2, a3, b, pooled, winner, at);
            pool(b0, b1, b2, b3, b, pooled, winner, nextAt);
        }

        /**
         * The four candidates' sums plus the bias, pooled as {@link #poolRelu} pools: values by max (NaN-propagating),
         * winners by strict comparisons. Small enough that C2 inlines it into its callers (a vector argument of a
         * call C2 did not inline would be boxed).
         */
        private static void pool(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3, FloatVector b,
                                 float[] pooled, float[] winner, int at) {
            FloatVector v0 = a0.add(b), v1 = a1.add(b), v2 = a2.add(b), v3 = a3.add(b);
            FloatVector zero = FloatVector.zero(SPECIES);
            v0.max(v1).max(v2).max(v3).max(zero).intoArray(pooled, at);
            VectorMask<Float> m1 = v1.compare(VectorOperators.GT, v0);
            FloatVector best = v0.blend(v1, m1);
            FloatVector win = zero.blend(FloatVector.broadcast(SPECIES, 1f), m1);
            VectorMask<Float> m2 = v2.compare(VectorOperators.GT, best);
            best = best.blend(v2, m2);
            win = win.blend(FloatVector.broadcast(SPECIES, 2f), m2);
            win.blend(FloatVector.broadcast(SPECIES, 3f), v3.compare(VectorOperators.GT, best)).intoArray(winner, at);
        }

        /** Output channel o of one window, for channels beyond the last whole vector. */
        private void windowScalar(int corner, int o, float[] pooled, float[] winner, int at) {
            int cin = g.inChannels(), cout = g.outChannels(), down = paddedWidth * cin;
            float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f;
            for (int e = 0; e < offsets.length; e++) {
                float w = transposed[e * cout + o];
                int i = corner + offsets[e];
                a0 = Math.fma(w, padded[i], a0);
                a1 = Math.fma(w, padded[i + cin], a1);
                a2 = Math.fma(w, padded[i + down], a2);
                a3 = Math.fma(w, padded[i + down + cin], a3);
            }
            poolOne(a0 + bias[o], a1 + bias[o], a2 + bias[o], a3 + bias[o], pooled, winner, at);
        }
    }

    @Override
    public void backward(PooledConvGeometry g, float[] input, float[] weight, float[] pooledGrad, float[] pooled,
                         float[] winner, boolean absolute, float[] weightSums, float[] biasSums, float[] inputGrad) {
        PooledConvKernels.checkSizes(g, input, weight, pooledGrad, pooled, winner, weightSums, biasSums, inputGrad);
        int samples = g.samples();
        if (samples == 0) {
            return;
        }
        long work = (long) samples * g.pooledPerSample() * g.inChannels() * g.kernel() * g.kernel();
        int tasks = (int) Math.min(samples, work < PARALLEL_WORK ? 1 : threads);
        int size = g.weightSize();
        int k = g.kernel(), cin = g.inChannels(), cout = g.outChannels(), taps = k * k;
        boolean wide = (k * cin) % LANES == 0;
        float[] transposed = new float[size]; // [out][ky][kx][in]: a window row's weights are contiguous, as its inputs are
        for (int o = 0; o < cout; o++) {
            for (int c = 0; c < cin; c++) {
                for (int t = 0; t < taps; t++) {
                    transposed[(o * taps + t) * cin + c] = weight[(o * cin + c) * taps + t];
                }
            }
        }
        float[][] parts = new float[tasks][];
        float[][] biasParts = new float[tasks][];
        java.util.function.IntConsumer task = t -> {
            Sample s = new Sample(g, inputGrad != null);
            parts[t] = new float[size];
            biasParts[t] = new float[cout];
            int from = (int) ((long) samples * t / tasks), to = (int) ((long) samples * (t + 1) / tasks);
            for (int n = from; n < to; n++) {
                s.run(n, wide, input, transposed, pooledGrad, pooled, winner, absolute, parts[t], biasParts[t], inputGrad);
            }
        };
        if (tasks == 1) {
            task.accept(0);
        } else {
            IntStream.range(0, tasks).parallel().forEach(task);
        }
        for (int t = 1; t < tasks; t++) {
            add(parts[0], parts[t], size);
            add(biasParts[0], biasParts[t], cout);
        }
        float[] part = parts[0];
        for (int o = 0; o < cout; o++) { // back to [out][in][ky][kx] from [out][tap][in] (wide) or [tap][in][out] (narrow)
            for (int c = 0; c < cin; c++) {
                for (int tap = 0; tap < taps; tap++) {
                    weightSums[(o * cin + c) * taps + tap] += wide ? part[(o * taps + tap) * cin + c] : part[(tap * cin + c) * cout + o];
                }
            }
            biasSums[o] += biasParts[0][o];
        }
    }

    private static void add(float[] sum, float[] part, int size) {
        int j = 0;
        for (int bound = SPECIES.loopBound(size); j < bound; j += LANES) {
            FloatVector.fromArray(SPECIES, sum, j).add(FloatVector.fromArray(SPECIES, part, j)).intoArray(sum, j);
        }
        for (; j < size; j++) {
            sum[j] += part[j];
        }
    }

    /**
     * One task's scratch and one sample's work. Two schemes, both without stores inside their hot loops (a store
     * followed by a load of the same misaligned vector stalls, and Java arrays are never 64-byte aligned):
     * <ul>
     *   <li>wide (a window row, k·in floats, is whole vectors): per output channel, vectors of its weight-gradient row
     *       accumulate in registers over the pooled positions, reading the winner's window of the input; the input
     *       gradient of each window candidate accumulates in registers over the output channels that chose it;</li>
     *   <li>narrow (a window row is not whole vectors: the cnn's first layer, one input channel): lanes run over
     *       output channels; each window candidate's gradients (zero where another position won) multiply the
     *       broadcast input element. Its input gradient (first layers need none) is a plain scalar loop.</li>
     * </ul>
     */
    private static final class Sample {
        final PooledConvGeometry g;
        final int paddedWidth;
        final float[] padded;
        final float[] paddedGrad;
        final float[] w;
        final float[] b;
        /** Per (pooled position, output channel): the gradient the ReLU passed, and where its winner's window starts in the padded input. */
        final float[] passed;
        final int[] start;
        /** Wide: window-relative offsets of a row's vectors. Narrow: of each (ky, kx, in) element. */
        final int[] offsets;
        /** Wide input gradient: per (pooled position, output channel), the winner where a gradient passed, else 4. */
        final int[] buckets;
        /** Where each pooled position's window (candidate 0's) starts in the padded input. */
        final int[] corners;
        /** Narrow: per pooled position and window candidate, the output channels' gradients at that candidate. */
        final float[] candidates;

        Sample(PooledConvGeometry g, boolean inputGrad) {
            this.g = g;
            this.paddedWidth = g.inWidth() + 2 * g.padding();
            int paddedSize = (g.inHeight() + 2 * g.padding()) * paddedWidth * g.inChannels();
            this.padded = new float[paddedSize]; // the border stays zero
            this.paddedGrad = inputGrad ? new float[paddedSize] : null;
            this.w = new float[g.weightSize()];
            this.b = new float[g.outChannels()];
            this.passed = new float[g.pooledPerSample()];
            this.start = new int[g.pooledPerSample()];
            int k = g.kernel(), cin = g.inChannels(), span = k * cin;
            boolean wide = span % LANES == 0;
            this.offsets = new int[wide ? k * span / LANES : k * span];
            for (int v = 0; v < offsets.length; v++) {
                int e = wide ? v * LANES : v; // element of the row [ky][kx][in]
                offsets[v] = (e / span) * paddedWidth * cin + e % span;
            }
            this.candidates = wide ? null : new float[4 * g.pooledPerSample()];
            this.buckets = wide && inputGrad ? new int[g.pooledPerSample()] : null;
            this.corners = new int[g.pooledPositions()];
            for (int p = 0; p < corners.length; p++) {
                corners[p] = (2 * (p / g.pooledWidth()) * paddedWidth + 2 * (p % g.pooledWidth())) * cin;
            }
        }

        void run(int n, boolean wide, float[] input, float[] transposed, float[] pooledGrad, float[] pooled, float[] winner,
                 boolean absolute, float[] part, float[] biasPart, float[] inputGrad) {
            int cin = g.inChannels(), cout = g.outChannels(), pad = g.padding();
            int rowIn = g.inWidth() * cin;
            int inBase = n * g.inputPerSample();
            for (int y = 0; y < g.inHeight(); y++) {
                System.arraycopy(input, inBase + y * rowIn, padded, ((y + pad) * paddedWidth + pad) * cin, rowIn);
            }
            if (paddedGrad != null) {
                Arrays.fill(paddedGrad, 0f);
            }
            int qBase = n * g.pooledPerSample();
            passedGradients(pooledGrad, pooled, qBase);
            if (wide || cout % LANES != 0 || paddedGrad != null) {
                winnerStarts(winner, qBase);
            }
            if (wide) {
                wideProducts();
                if (paddedGrad != null) {
                    wideInputGradient(transposed);
                }
            } else {
                narrowProducts(winner, qBase);
                if (paddedGrad != null) {
                    narrowInputGradient(transposed);
                }
            }
            accumulate(part, absolute);
            for (int o = 0; o < cout; o++) {
                biasPart[o] = absolute ? biasPart[o] + Math.abs(b[o]) : Math.fma(b[o], b[o], biasPart[o]);
            }
            if (inputGrad != null) {
                for (int y = 0; y < g.inHeight(); y++) {
                    System.arraycopy(paddedGrad, ((y + pad) * paddedWidth + pad) * cin, inputGrad, inBase + y * rowIn, rowIn);
                }
            }
        }

        // Each vector loop sits in a small method of its own: C2 compiles those whole, with the Vector API's
        // intrinsics; inlined into one large method, some of its vector operations fell back to Java code.

        /** passed = the pooled gradient where the ReLU passed it (pooled > 0), else 0; b = its sum per output channel. */
        private void passedGradients(float[] pooledGrad, float[] pooled, int qBase) {
            int size = g.pooledPerSample(), cout = g.outChannels();
            int j = 0;
            for (int bound = SPECIES.loopBound(size); j < bound; j += LANES) {
                FloatVector.zero(SPECIES).blend(FloatVector.fromArray(SPECIES, pooledGrad, qBase + j),
                        FloatVector.fromArray(SPECIES, pooled, qBase + j).compare(VectorOperators.GT, 0f)).intoArray(passed, j);
            }
            for (; j < size; j++) {
                passed[j] = pooled[qBase + j] > 0 ? pooledGrad[qBase + j] : 0f;
            }
            // b in registers, one vector of channels at a time: summed through memory, each position's load waited on
            // the previous position's store of the same misaligned vector (about 5% of the route's profile samples)
            int o = 0;
            for (int oBound = SPECIES.loopBound(cout); o < oBound; o += LANES) {
                biasSums(o);
            }
            for (; o < cout; o++) {
                float sum = 0f;
                for (int q = o; q < size; q += cout) {
                    sum += passed[q];
                }
                b[o] = sum;
            }
        }

        /** b[o..o+LANES) = Σ over the pooled positions of passed. */
        private void biasSums(int o) {
            int cout = g.outChannels(), size = g.pooledPerSample();
            FloatVector sum = FloatVector.zero(SPECIES);
            for (int q = o; q < size; q += cout) {
                sum = sum.add(FloatVector.fromArray(SPECIES, passed, q));
            }
            sum.intoArray(b, o);
        }

        /**
         * start = where each (pooled position, output channel)'s winning candidate's window starts in the padded input;
         * buckets (wide input gradient) = the winner where a gradient passed, else 4. In int vectors: as scalar loops
         * these two took about 6% of the route's profile samples.
         */
        private void winnerStarts(float[] winner, int qBase) {
            int cin = g.inChannels(), cout = g.outChannels(), down = paddedWidth * cin;
            int oBound = SPECIES.loopBound(cout);
            for (int p = 0; p < corners.length; p++) {
                int corner = corners[p], q0 = p * cout;
                int o = 0;
                for (; o < oBound; o += LANES) {
                    // The winners' float bits compared, not converted: JDK 17 does not compile float-to-int conversions
                    // of these vectors (a call per vector). Candidates 2 and 3 are one row down (2f, 3f: bits at or
                    // above 2f's), 1 and 3 one column right.
                    IntVector bits = (IntVector) FloatVector.fromArray(SPECIES, winner, qBase + q0 + o).reinterpretAsInts();
                    VectorMask<Integer> lower = bits.compare(VectorOperators.GE, TWO_BITS);
                    VectorMask<Integer> right = bits.compare(VectorOperators.EQ, ONE_BITS).or(bits.compare(VectorOperators.EQ, THREE_BITS));
                    IntVector zero = IntVector.zero(INT_SPECIES);
                    zero.blend(down, lower).add(zero.blend(cin, right)).add(corner).intoArray(start, q0 + o);
                    if (buckets != null) {
                        // passed != 0 ? winner : 4, on the bits: non-zero for any pattern but ±0, as != is
                        IntVector magnitude = ((IntVector) FloatVector.fromArray(SPECIES, passed, q0 + o).reinterpretAsInts()).and(0x7fffffff);
                        IntVector win = zero.blend(2, lower).add(zero.blend(1, right));
                        IntVector.broadcast(INT_SPECIES, 4).blend(win, magnitude.compare(VectorOperators.NE, 0)).intoArray(buckets, q0 + o);
                    }
                }
                for (; o < cout; o++) {
                    int win = (int) winner[qBase + q0 + o];
                    start[q0 + o] = corner + ((win >> 1) * paddedWidth + (win & 1)) * cin;
                    if (buckets != null) {
                        buckets[q0 + o] = passed[q0 + o] != 0 ? win : 4;
                    }
                }
            }
        }

        /** part += w² (or |w|). */
        private void accumulate(float[] part, boolean absolute) {
            int size = w.length;
            int j = 0;
            for (int bound = SPECIES.loopBound(size); j < bound; j += LANES) {
                FloatVector v = FloatVector.fromArray(SPECIES, w, j);
                FloatVector p = FloatVector.fromArray(SPECIES, part, j);
                (absolute ? p.add(v.abs()) : v.fma(v, p)).intoArray(part, j);
            }
            for (; j < size; j++) {
                part[j] = absolute ? part[j] + Math.abs(w[j]) : Math.fma(w[j], w[j], part[j]);
            }
        }

        /**
         * w [out][ky][kx][in]: per output channel, eight (then four, then one) vectors of its row summed over the
         * pooled positions in registers: eight independent chains keep both FMA units busy (four were bound by the
         * FMA latency), and the broadcast gradient is loaded once for all of them.
         */
        private void wideProducts() {
            int cout = g.outChannels(), rowVecs = offsets.length;
            for (int o = 0; o < cout; o++) {
                int v = 0;
                for (; v + 8 <= rowVecs; v += 8) {
                    wideProducts8(o, v);
                }
                for (; v + 4 <= rowVecs; v += 4) {
                    wideProducts4(o, v);
                }
                for (; v < rowVecs; v++) {
                    wideProducts1(o, v);
                }
            }
        }

        private void wideProducts8(int o, int v) {
            int cout = g.outChannels(), end = g.pooledPositions() * cout, row = (o * offsets.length + v) * LANES;
            int f0 = offsets[v], f1 = offsets[v + 1], f2 = offsets[v + 2], f3 = offsets[v + 3];
            int f4 = offsets[v + 4], f5 = offsets[v + 5], f6 = offsets[v + 6], f7 = offsets[v + 7];
            FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (int q = o; q < end; q += cout) {
                FloatVector gv = FloatVector.broadcast(SPECIES, passed[q]);
                int at = start[q];
                a0 = FloatVector.fromArray(SPECIES, padded, at + f0).fma(gv, a0);
                a1 = FloatVector.fromArray(SPECIES, padded, at + f1).fma(gv, a1);
                a2 = FloatVector.fromArray(SPECIES, padded, at + f2).fma(gv, a2);
                a3 = FloatVector.fromArray(SPECIES, padded, at + f3).fma(gv, a3);
                a4 = FloatVector.fromArray(SPECIES, padded, at + f4).fma(gv, a4);
                a5 = FloatVector.fromArray(SPECIES, padded, at + f5).fma(gv, a5);
                a6 = FloatVector.fromArray(SPECIES, padded, at + f6).fma(gv, a6);
                a7 = FloatVector.fromArray(SPECIES, padded, at + f7).fma(gv, a7);
            }
            a0.intoArray(w, row);
            a1.intoArray(w, row + LANES);
            a2.intoArray(w, row + 2 * LANES);
            a3.intoArray(w, row + 3 * LANES);
            a4.intoArray(w, row + 4 * LANES);
            a5.intoArray(w, row + 5 * LANES);
            a6.intoArray(w, row + 6 * LANES);
            a7.intoArray(w, row + 7 * LANES);
        }

        private void wideProducts4(int o, int v) {
            int cout = g.outChannels(), end = g.pooledPositions() * cout, row = (o * offsets.length + v) * LANES;
            int f0 = offsets[v], f1 = offsets[v + 1], f2 = offsets[v + 2], f3 = offsets[v + 3];
            FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0;
            for (int q = o; q < end; q += cout) {
                FloatVector gv = FloatVector.broadcast(SPECIES, passed[q]);
                int at = start[q];
                a0 = FloatVector.fromArray(SPECIES, padded, at + f0).fma(gv, a0);
                a1 = FloatVector.fromArray(SPECIES, padded, at + f1).fma(gv, a1);
                a2 = FloatVector.fromArray(SPECIES, padded, at + f2).fma(gv, a2);
                a3 = FloatVector.fromArray(SPECIES, padded, at + f3).fma(gv, a3);
            }
            a0.intoArray(w, row);
            a1.intoArray(w, row + LANES);
            a2.intoArray(w, row + 2 * LANES);
            a3.intoArray(w, row + 3 * LANES);
        }

        /** One vector of the row, its positions alternating between two chains. */
        private void wideProducts1(int o, int v) {
            int cout = g.outChannels(), end = g.pooledPositions() * cout, f0 = offsets[v];
            FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0;
            int q = o;
            for (; q + cout < end; q += 2 * cout) {
                a0 = FloatVector.fromArray(SPECIES, padded, start[q] + f0).fma(FloatVector.broadcast(SPECIES, passed[q]), a0);
                a1 = FloatVector.fromArray(SPECIES, padded, start[q + cout] + f0).fma(FloatVector.broadcast(SPECIES, passed[q + cout]), a1);
            }
            if (q < end) {
                a0 = FloatVector.fromArray(SPECIES, padded, start[q] + f0).fma(FloatVector.broadcast(SPECIES, passed[q]), a0);
            }
            a0.add(a1).intoArray(w, (o * offsets.length + v) * LANES);
        }

        /**
         * paddedGrad: per pooled position and window candidate, Σ over the output channels whose winner it is of
         * gradient × weight row, eight (then four, then one) vectors at a time in registers, added to the candidate's
         * window once.
         */
        private void wideInputGradient(float[] transposed) {
            int cout = g.outChannels(), rowVecs = offsets.length, positions = g.pooledPositions();
            for (int p = 0; p < positions; p++) {
                int q0 = p * cout;
                for (int chunk = 0; chunk < cout; chunk += 64) {
                    // which output channels of this chunk each candidate won, as bit sets (a counting sort through
                    // memory stalls on its own stores)
                    int count = Math.min(cout - chunk, 64);
                    for (int t = 0; t < 4; t++) {
                        long won = wonBy(q0 + chunk, count, t);
                        if (won == 0) {
                            continue;
                        }
                        int at = start[q0 + chunk + Long.numberOfTrailingZeros(won)];
                        int v = 0;
                        for (; v + 8 <= rowVecs; v += 8) {
                            inputGradient8(transposed, won, chunk, q0, at, v);
                        }
                        for (; v + 4 <= rowVecs; v += 4) {
                            inputGradient4(transposed, won, chunk, q0, at, v);
                        }
                        for (; v < rowVecs; v++) {
                            inputGradient1(transposed, won, chunk, q0, at, v);
                        }
                    }
                }
            }
        }

        /**
         * Bit i (i < count ≤ 64) set where buckets[q + i] == t: per vector, each lane's bit where it matches, OR-ed
         * across the lanes (a reduction C2 compiles; a mask's toLong it does not on JDK 17), 2.5 times the speed of
         * the scalar loop. The scalar loop by arithmetic: as branches, its selects mispredicted on every other channel.
         */
        private long wonBy(int q, int count, int t) {
            long bits = 0;
            int i = 0;
            if (LANES <= 16) { // a lane's bit must fit the int lanes
                for (; i + LANES <= count; i += LANES) {
                    IntVector laneBit = IntVector.fromArray(INT_SPECIES, LANE_BITS, 0);
                    int matches = IntVector.zero(INT_SPECIES).blend(laneBit,
                            IntVector.fromArray(INT_SPECIES, buckets, q + i).compare(VectorOperators.EQ, t)).reduceLanes(VectorOperators.OR);
                    bits |= (long) matches << i;
                }
            }
            for (; i < count; i++) {
                // ((b ^ t) - 1) >> 31 is all ones exactly where b == t (b is 0..4)
                bits |= (1L << i) & (((buckets[q + i] ^ t) - 1) >> 31);
            }
            return bits;
        }

        // The three below: Σ over the output channels in `won` of gradient × weight row vectors v.., added to the
        // candidate's window at `at` (eight chains, as in wideProducts; added here, not through a helper: a vector
        // passed to a method C2 does not inline is boxed).

        private void inputGradient8(float[] transposed, long won, int chunk, int q0, int at, int v) {
            int rowLen = offsets.length * LANES, r = v * LANES;
            FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (long rest = won; rest != 0; rest &= rest - 1) {
                int o = chunk + Long.numberOfTrailingZeros(rest);
                FloatVector gv = FloatVector.broadcast(SPECIES, passed[q0 + o]);
                int wr = o * rowLen + r;
                a0 = FloatVector.fromArray(SPECIES, transposed, wr).fma(gv, a0);
                a1 = FloatVector.fromArray(SPECIES, transposed, wr + LANES).fma(gv, a1);
                a2 = FloatVector.fromArray(SPECIES, transposed, wr + 2 * LANES).fma(gv, a2);
                a3 = FloatVector.fromArray(SPECIES, transposed, wr + 3 * LANES).fma(gv, a3);
                a4 = FloatVector.fromArray(SPECIES, transposed, wr + 4 * LANES).fma(gv, a4);
                a5 = FloatVector.fromArray(SPECIES, transposed, wr + 5 * LANES).fma(gv, a5);
                a6 = FloatVector.fromArray(SPECIES, transposed, wr + 6 * LANES).fma(gv, a6);
                a7 = FloatVector.fromArray(SPECIES, transposed, wr + 7 * LANES).fma(gv, a7);
            }
            int d0 = at + offsets[v], d1 = at + offsets[v + 1], d2 = at + offsets[v + 2], d3 = at + offsets[v + 3];
            int d4 = at + offsets[v + 4], d5 = at + offsets[v + 5], d6 = at + offsets[v + 6], d7 = at + offsets[v + 7];
            a0.add(FloatVector.fromArray(SPECIES, paddedGrad, d0)).intoArray(paddedGrad, d0);
            a1.add(FloatVector.fromArray(SPECIES, paddedGrad, d1)).intoArray(paddedGrad, d1);
            a2.add(FloatVector.fromArray(SPECIES, paddedGrad, d2)).intoArray(paddedGrad, d2);
            a3.add(FloatVector.fromArray(SPECIES, paddedGrad, d3)).intoArray(paddedGrad, d3);
            a4.add(FloatVector.fromArray(SPECIES, paddedGrad, d4)).intoArray(paddedGrad, d4);
            a5.add(FloatVector.fromArray(SPECIES, paddedGrad, d5)).intoArray(paddedGrad, d5);
            a6.add(FloatVector.fromArray(SPECIES, paddedGrad, d6)).intoArray(paddedGrad, d6);
            a7.add(FloatVector.fromArray(SPECIES, paddedGrad, d7)).intoArray(paddedGrad, d7);
        }

        private void inputGradient4(float[] transposed, long won, int chunk, int q0, int at, int v) {
            int rowLen = offsets.length * LANES, r = v * LANES;
            FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0;
            for (long rest = won; rest != 0; rest &= rest - 1) {
                int o = chunk + Long.numberOfTrailingZeros(rest);
                FloatVector gv = FloatVector.broadcast(SPECIES, passed[q0 + o]);
                int wr = o * rowLen + r;
                a0 = FloatVector.fromArray(SPECIES, transposed, wr).fma(gv, a0);
                a1 = FloatVector.fromArray(SPECIES, transposed, wr + LANES).fma(gv, a1);
                a2 = FloatVector.fromArray(SPECIES, transposed, wr + 2 * LANES).fma(gv, a2);
                a3 = FloatVector.fromArray(SPECIES, transposed, wr + 3 * LANES).fma(gv, a3);
            }
            int d0 = at + offsets[v], d1 = at + offsets[v + 1], d2 = at + offsets[v + 2], d3 = at + offsets[v + 3];
            a0.add(FloatVector.fromArray(SPECIES, paddedGrad, d0)).intoArray(paddedGrad, d0);
            a1.add(FloatVector.fromArray(SPECIES, paddedGrad, d1)).intoArray(paddedGrad, d1);
            a2.add(FloatVector.fromArray(SPECIES, paddedGrad, d2)).intoArray(paddedGrad, d2);
            a3.add(FloatVector.fromArray(SPECIES, paddedGrad, d3)).intoArray(paddedGrad, d3);
        }

        private void inputGradient1(float[] transposed, long won, int chunk, int q0, int at, int v) {
            int rowLen = offsets.length * LANES;
            FloatVector a0 = FloatVector.zero(SPECIES);
            for (long rest = won; rest != 0; rest &= rest - 1) {
                int o = chunk + Long.numberOfTrailingZeros(rest);
                a0 = FloatVector.fromArray(SPECIES, transposed, o * rowLen + v * LANES).fma(FloatVector.broadcast(SPECIES, passed[q0 + o]), a0);
            }
            int d0 = at + offsets[v];
            a0.add(FloatVector.fromArray(SPECIES, paddedGrad, d0)).intoArray(paddedGrad, d0);
        }

        /**
         * w [ky][kx][in][out]: lanes over output channels; per window element, a sum over the pooled positions of the
         * four candidates' gradients (each zero where another candidate won) times that candidate's input element.
         */
        /** candidates[p][t][o] = passed[p][o] where candidate t won, else 0. */
        private void narrowCandidates(float[] winner, int qBase) {
            int cout = g.outChannels(), positions = g.pooledPositions();
            int oBound = SPECIES.loopBound(cout);
            for (int p = 0; p < positions; p++) {
                int q0 = p * cout;
                int o = 0;
                for (; o < oBound; o += LANES) { // vectors made in the innermost loop: JDK 17 boxes those live across nested loops
                    FloatVector zero = FloatVector.zero(SPECIES);
                    FloatVector gv = FloatVector.fromArray(SPECIES, passed, q0 + o);
                    FloatVector win = FloatVector.fromArray(SPECIES, winner, qBase + q0 + o);
                    int c = 4 * p * cout + o;
                    zero.blend(gv, win.compare(VectorOperators.EQ, 0f)).intoArray(candidates, c);
                    zero.blend(gv, win.compare(VectorOperators.EQ, 1f)).intoArray(candidates, c + cout);
                    zero.blend(gv, win.compare(VectorOperators.EQ, 2f)).intoArray(candidates, c + 2 * cout);
                    zero.blend(gv, win.compare(VectorOperators.EQ, 3f)).intoArray(candidates, c + 3 * cout);
                }
                for (; o < cout; o++) {
                    int win = (int) winner[qBase + q0 + o];
                    for (int t = 0; t < 4; t++) {
                        candidates[(4 * p + t) * cout + o] = t == win ? passed[q0 + o] : 0f;
                    }
                }
            }
        }

        private void narrowProducts(float[] winner, int qBase) {
            narrowCandidates(winner, qBase);
            int cout = g.outChannels(), positions = g.pooledPositions();
            int oBound = SPECIES.loopBound(cout);
            for (int o = 0; o < oBound; o += LANES) {
                int e = 0;
                for (; e + 3 <= offsets.length; e += 3) {
                    narrowProducts3(e, o);
                }
                for (; e < offsets.length; e++) {
                    narrowProducts1(e, o);
                }
            }
            for (int e = 0; e < offsets.length; e++) {
                int off = offsets[e];
                for (int o = oBound; o < cout; o++) {
                    float acc = 0f;
                    for (int p = 0; p < positions; p++) {
                        int q = p * cout + o;
                        acc = Math.fma(passed[q], padded[start[q] + off], acc);
                    }
                    w[e * cout + o] = acc;
                }
            }
        }

        /**
         * Window elements e, e+1, e+2 (a kernel row of the cnn's first layer) for lanes o..: each candidate's
         * gradient vector is loaded once for the three, and six chains of two FMAs per position keep both FMA units
         * busy (one element at a time was bound by the FMA latency).
         */
        private void narrowProducts3(int e, int o) {
            int cout = g.outChannels(), cin = g.inChannels(), positions = g.pooledPositions(), down = paddedWidth * cin;
            int off0 = offsets[e], off1 = offsets[e + 1], off2 = offsets[e + 2];
            FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, b0 = a0, b1 = a0, b2 = a0; // a: candidates 0, 1; b: 2, 3
            for (int p = 0; p < positions; p++) {
                int c = 4 * p * cout + o;
                FloatVector c0 = FloatVector.fromArray(SPECIES, candidates, c);
                FloatVector c1 = FloatVector.fromArray(SPECIES, candidates, c + cout);
                FloatVector c2 = FloatVector.fromArray(SPECIES, candidates, c + 2 * cout);
                FloatVector c3 = FloatVector.fromArray(SPECIES, candidates, c + 3 * cout);
                int at = corners[p]; // candidate 0's window; 1 is cin to the right, 2 one row down, 3 both
                a0 = c1.fma(FloatVector.broadcast(SPECIES, padded[at + off0 + cin]), c0.fma(FloatVector.broadcast(SPECIES, padded[at + off0]), a0));
                a1 = c1.fma(FloatVector.broadcast(SPECIES, padded[at + off1 + cin]), c0.fma(FloatVector.broadcast(SPECIES, padded[at + off1]), a1));
                a2 = c1.fma(FloatVector.broadcast(SPECIES, padded[at + off2 + cin]), c0.fma(FloatVector.broadcast(SPECIES, padded[at + off2]), a2));
                int dn = at + down;
                b0 = c3.fma(FloatVector.broadcast(SPECIES, padded[dn + off0 + cin]), c2.fma(FloatVector.broadcast(SPECIES, padded[dn + off0]), b0));
                b1 = c3.fma(FloatVector.broadcast(SPECIES, padded[dn + off1 + cin]), c2.fma(FloatVector.broadcast(SPECIES, padded[dn + off1]), b1));
                b2 = c3.fma(FloatVector.broadcast(SPECIES, padded[dn + off2 + cin]), c2.fma(FloatVector.broadcast(SPECIES, padded[dn + off2]), b2));
            }
            a0.add(b0).intoArray(w, e * cout + o);
            a1.add(b1).intoArray(w, (e + 1) * cout + o);
            a2.add(b2).intoArray(w, (e + 2) * cout + o);
        }

        /** Window element e alone, lanes o..: one chain per candidate. */
        private void narrowProducts1(int e, int o) {
            int cout = g.outChannels(), cin = g.inChannels(), positions = g.pooledPositions(), down = paddedWidth * cin;
            int off = offsets[e];
            FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0;
            for (int p = 0; p < positions; p++) {
                int at = corners[p] + off; // candidate 0's element
                int c = 4 * p * cout + o;
                a0 = FloatVector.fromArray(SPECIES, candidates, c).fma(FloatVector.broadcast(SPECIES, padded[at]), a0);
                a1 = FloatVector.fromArray(SPECIES, candidates, c + cout).fma(FloatVector.broadcast(SPECIES, padded[at + cin]), a1);
                a2 = FloatVector.fromArray(SPECIES, candidates, c + 2 * cout).fma(FloatVector.broadcast(SPECIES, padded[at + down]), a2);
                a3 = FloatVector.fromArray(SPECIES, candidates, c + 3 * cout).fma(FloatVector.broadcast(SPECIES, padded[at + down + cin]), a3);
            }
            a0.add(a1).add(a2.add(a3)).intoArray(w, e * cout + o);
        }

        /** paddedGrad, one (pooled position, output channel) at a time: the narrow layers are first layers, which need none. */
        private void narrowInputGradient(float[] transposed) {
            int cout = g.outChannels(), positions = g.pooledPositions(), rowLen = offsets.length;
            for (int q = 0; q < positions * cout; q++) {
                float grad = passed[q];
                int o = q % cout;
                for (int e = 0; e < rowLen; e++) {
                    paddedGrad[start[q] + offsets[e]] += grad * transposed[o * rowLen + e];
                }
            }
        }
    }
}
