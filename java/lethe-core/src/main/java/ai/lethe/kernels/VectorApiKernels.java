package ai.lethe.kernels;

import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BinaryOperator;
import java.util.function.Supplier;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The kernels behind {@link VectorKernels}: {@code jdk.incubator.vector} loops with a scalar tail, run in parallel
 * over fixed-size chunks of every tensor on a dedicated fork/join pool. Per-element arithmetic is the same fp32
 * sequence as {@link ScalarKernels}, so element-wise results agree bit for bit; reductions differ only in order.
 * This class names Vector API types, so it is loaded only in a JVM that resolved the module (see
 * {@link VectorKernels}).
 */
final class VectorApiKernels extends HostKernels {

    /** The vector width in bits: the CPU's preferred one unless {@link VectorKernels#BITS_PROPERTY} says otherwise. */
    static final int BITS = vectorBits();
    static final VectorSpecies<Float> SPECIES = VectorSpecies.of(float.class, VectorShape.forBitSize(BITS));
    static final VectorSpecies<Integer> INT_SPECIES = VectorSpecies.of(int.class, VectorShape.forBitSize(BITS));
    private static final int LANES = SPECIES.length();

    /** Elements per task: 128 KiB of floats, large enough to amortise scheduling, small enough to balance. */
    static final int CHUNK = 1 << 15;
    /** Below this many elements the call runs on the caller's thread: forking would cost more than it saves. */
    private static final long PARALLEL_THRESHOLD = 4L * CHUNK;

    private final int threads;
    private final ForkJoinPool pool;

    /**
     * The preferred width, or the one {@link VectorKernels#BITS_PROPERTY} names: 128, 256 or 512 (64 bits hold two
     * floats, too few to pay). The loops are the same at every width, so tests run them
     * at widths the machine would not pick (a narrower one has other tails and chunk edges).
     */
    private static int vectorBits() {
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        String asked = System.getProperty(VectorKernels.BITS_PROPERTY);
        if (asked == null || asked.isBlank()) {
            return preferred;
        }
        try {
            int bits = Integer.parseInt(asked.strip());
            if (bits == 128 || bits == 256 || bits == 512) {
                return bits;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException("-D" + VectorKernels.BITS_PROPERTY + " must be 128, 256 or 512, got '" + asked + "'");
    }

    /** {@code threads} checked by {@link VectorKernels}. */
    VectorApiKernels(int threads) {
        this.threads = threads;
        AtomicInteger ids = new AtomicInteger();
        this.pool = new ForkJoinPool(threads, p -> {
            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("lethe-vector-" + ids.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, null, false);
    }

    @Override
    public String name() {
        return "vector";
    }

    @Override
    public String description() {
        return "vector (" + SPECIES.vectorBitSize() + "-bit, " + LANES + " float lanes, " + threads + " threads)";
    }

    int threads() {
        return threads;
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }

    // ---- element-wise ---------------------------------------------------------------------------

    @Override
    protected void doCopy(TensorList src, TensorList dst) {
        float[][] s = arrays(src);
        float[][] d = arrays(dst);
        forEach(s, (t, from, to) -> System.arraycopy(s[t], from, d[t], from, to - from));
    }

    @Override
    protected void doFill(TensorList x, float value) {
        float[][] xs = arrays(x);
        forEach(xs, (t, from, to) -> Arrays.fill(xs[t], from, to, value));
    }

    @Override
    protected void doScale(TensorList x, float a) {
        float[][] xs = arrays(x);
        forEach(xs, (t, from, to) -> {
            float[] v = xs[t];
            int j = from;
            for (int bound = from + SPECIES.loopBound(to - from); j < bound; j += LANES) {
                FloatVector.fromArray(SPECIES, v, j).mul(a).intoArray(v, j);
            }
            for (; j < to; j++) {
                v[j] = v[j] * a;
            }
        });
    }

    @Override
    protected void doDivide(TensorList dst, TensorList src, float divisor) {
        float[][] ds = arrays(dst);
        float[][] ss = arrays(src);
        forEach(ds, (t, from, to) -> {
            float[] d = ds[t];
            float[] s = ss[t];
            int j = from;
            for (int bound = from + SPECIES.loopBound(to - from); j < bound; j += LANES) {
                FloatVector.fromArray(SPECIES, s, j).div(divisor).intoArray(d, j);
            }
            for (; j < to; j++) {
                d[j] = s[j] / divisor;
            }
        });
    }

    @Override
    protected void doScaleAdd(TensorList y, TensorList x, float a) {
        float[][] ys = arrays(y);
        float[][] xs = arrays(x);
        forEach(ys, (t, from, to) -> {
            float[] yv = ys[t];
            float[] xv = xs[t];
            int j = from;
            for (int bound = from + SPECIES.loopBound(to - from); j < bound; j += LANES) {
                FloatVector xx = FloatVector.fromArray(SPECIES, xv, j);
                FloatVector.fromArray(SPECIES, yv, j).add(xx.mul(a)).intoArray(yv, j);
            }
            for (; j < to; j++) {
                yv[j] = yv[j] + a * xv[j];
            }
        });
    }

    @Override
    protected void doSgdStep(TensorList theta, TensorList velocity, TensorList grad, TensorList mask, float lr,
                             float momentum, float weightDecay) {
        float[][] th = arrays(theta);
        float[][] vs = arrays(velocity);
        float[][] gs = arrays(grad);
        float[][] ms = mask == null ? null : arrays(mask);
        forEach(th, (t, from, to) -> {
            float[] w = th[t];
            float[] v = vs[t];
            float[] g = gs[t];
            float[] m = ms == null ? null : ms[t];
            int j = from;
            for (int bound = from + SPECIES.loopBound(to - from); j < bound; j += LANES) {
                FloatVector wj = FloatVector.fromArray(SPECIES, w, j);
                FloatVector d = FloatVector.fromArray(SPECIES, g, j).add(wj.mul(weightDecay));
                d = d.mul(m == null ? FloatVector.broadcast(SPECIES, 1f) : FloatVector.fromArray(SPECIES, m, j));
                FloatVector vj = FloatVector.fromArray(SPECIES, v, j).mul(momentum).add(d);
                vj.intoArray(v, j);
                wj.sub(vj.mul(lr)).intoArray(w, j);
            }
            for (; j < to; j++) {
                float d = g[j] + weightDecay * w[j];
                d = d * (m == null ? 1f : m[j]);
                v[j] = momentum * v[j] + d;
                w[j] = w[j] - lr * v[j];
            }
        });
    }

    // ---- accumulation ---------------------------------------------------------------------------

    @Override
    protected void doAccumulateSquare(TensorList acc, TensorList g, float scale) {
        float[][] as = arrays(acc);
        float[][] gs = arrays(g);
        forEach(as, (t, from, to) -> {
            float[] a = as[t];
            float[] gr = gs[t];
            int j = from;
            FloatVector poison = FloatVector.zero(SPECIES); // g·0 is NaN exactly where g is NaN or ±Inf
            for (int bound = from + SPECIES.loopBound(to - from); j < bound; j += LANES) {
                FloatVector gv = FloatVector.fromArray(SPECIES, gr, j);
                FloatVector.fromArray(SPECIES, a, j).add(gv.mul(gv).mul(scale)).intoArray(a, j);
                poison = poison.add(gv.mul(0f));
            }
            for (; j < to; j++) {
                a[j] = a[j] + scale * (gr[j] * gr[j]);
            }
            countNonFinite(gr, from, to, poison);
        });
    }

    @Override
    protected void doAccumulateAbs(TensorList acc, TensorList g, float scale) {
        float[][] as = arrays(acc);
        float[][] gs = arrays(g);
        forEach(as, (t, from, to) -> {
            float[] a = as[t];
            float[] gr = gs[t];
            int j = from;
            FloatVector poison = FloatVector.zero(SPECIES);
            for (int bound = from + SPECIES.loopBound(to - from); j < bound; j += LANES) {
                FloatVector gv = FloatVector.fromArray(SPECIES, gr, j).lanewise(VectorOperators.ABS);
                FloatVector.fromArray(SPECIES, a, j).add(gv.mul(scale)).intoArray(a, j);
                poison = poison.add(gv.mul(0f));
            }
            for (; j < to; j++) {
                a[j] = a[j] + scale * Math.abs(gr[j]);
            }
            countNonFinite(gr, from, to, poison);
        });
    }

    /**
     * Adds the NaN/Inf elements of g[from, to) to the back end's count. The vector loop only carries {@code poison}
     * (the sum of g·0, NaN as soon as one element was not finite); the exact count is a rescan, on that rare path only.
     */
    private void countNonFinite(float[] g, int from, int to, FloatVector poison) {
        boolean suspect = Float.isNaN(poison.reduceLanes(VectorOperators.ADD));
        for (int j = from + SPECIES.loopBound(to - from); j < to && !suspect; j++) {
            suspect = !Float.isFinite(g[j]);
        }
        if (!suspect) {
            return;
        }
        long bad = 0;
        for (int j = from; j < to; j++) {
            bad += Float.isFinite(g[j]) ? 0 : 1;
        }
        gradientNonFinite.addAndGet(bad);
    }

    /**
     * A register-blocked product with the square (or |·|) in its epilogue, so per-sample gradients never leave
     * the registers: u is first transposed per sample to [positions][cols]; then for every tile of 4 rows × 2
     * vectors of columns, for every sample, W_n's tile is formed over all positions by broadcast-FMAs and its
     * squares are added to accumulators that stay in registers across samples. Row blocks run in parallel;
     * the rows and columns that do not fill a tile take a plain loop. fp32 throughout.
     */
    @Override
    protected void doAccumulatePerSampleProducts(TensorList acc, TensorList g, TensorList u, int samples, int rows,
                                                 int cols, int positions, boolean absolute) {
        if (samples == 0 || rows == 0 || cols == 0 || positions == 0) {
            return; // every W_n is empty or zero: nothing to add
        }
        float[] a = arrays(acc)[0];
        float[] gs = arrays(g)[0];
        float[] us = arrays(u)[0];
        float[] ut = new float[us.length];
        for (int n = 0; n < samples; n++) {
            int base = n * cols * positions;
            for (int j = 0; j < cols; j++) {
                for (int p = 0; p < positions; p++) {
                    ut[base + p * cols + j] = us[base + j * positions + p];
                }
            }
        }
        int blocks = rows / TILE_ROWS;
        java.util.function.IntConsumer block = b -> productRows(a, gs, ut, samples, rows, cols, positions, absolute,
                b * TILE_ROWS, b < blocks);
        int tasks = blocks + (rows % TILE_ROWS == 0 ? 0 : 1);
        long work = (long) samples * rows * cols * positions;
        if (threads == 1 || tasks < 2 || work < PARALLEL_THRESHOLD * 8) {
            for (int b = 0; b < tasks; b++) {
                block.accept(b);
            }
        } else {
            pool.submit(() -> java.util.stream.IntStream.range(0, tasks).parallel().forEach(block)).join();
        }
    }

    private static final int TILE_ROWS = 4;

    /** Rows [i0, i0 + 4) (or [i0, rows) when not {@code full}) of acc, every column. */
    private static void productRows(float[] a, float[] g, float[] ut, int samples, int rows, int cols, int positions,
                                    boolean absolute, int i0, boolean full) {
        int tile = 2 * LANES;
        int j0 = 0;
        if (full) {
            for (; j0 + tile <= cols; j0 += tile) {
                productTile(a, g, ut, samples, rows, cols, positions, absolute, i0, j0);
            }
        }
        int rowEnd = full ? i0 + TILE_ROWS : rows;
        for (int i = i0; i < rowEnd; i++) {
            for (int j = j0; j < cols; j++) {
                float sum = 0;
                for (int n = 0; n < samples; n++) {
                    int gRow = (n * rows + i) * positions;
                    int uCol = n * positions * cols + j;
                    float w = 0;
                    for (int p = 0; p < positions; p++) {
                        w += g[gRow + p] * ut[uCol + p * cols];
                    }
                    sum += absolute ? Math.abs(w) : w * w;
                }
                a[i * cols + j] = a[i * cols + j] + sum;
            }
        }
    }

    /**
     * One 4 × 2·LANES tile of acc: W_n's tile in 8 registers per sample, its squares added to a sum tile in memory.
     * The sums stay out of registers on purpose: vectors carried by nested loops (samples, then positions) are
     * boxed on the heap by JDK 17's C2, which made this kernel several times slower; a vector carried by the
     * inner loop alone stays in a register.
     */
    private static void productTile(float[] a, float[] g, float[] ut, int samples, int rows, int cols, int positions,
                                    boolean absolute, int i0, int j0) {
        float[] sums = new float[8 * LANES]; // rows i0..i0+3, two vectors each
        for (int n = 0; n < samples; n++) {
            FloatVector w00 = FloatVector.zero(SPECIES), w01 = w00, w10 = w00, w11 = w00, w20 = w00, w21 = w00, w30 = w00,
                    w31 = w00;
            int g0 = (n * rows + i0) * positions;
            int g1 = g0 + positions;
            int g2 = g1 + positions;
            int g3 = g2 + positions;
            int ub = n * positions * cols + j0;
            for (int p = 0; p < positions; p++) {
                int uo = ub + p * cols;
                FloatVector u0 = FloatVector.fromArray(SPECIES, ut, uo);
                FloatVector u1 = FloatVector.fromArray(SPECIES, ut, uo + LANES);
                FloatVector b0 = FloatVector.broadcast(SPECIES, g[g0 + p]);
                FloatVector b1 = FloatVector.broadcast(SPECIES, g[g1 + p]);
                FloatVector b2 = FloatVector.broadcast(SPECIES, g[g2 + p]);
                FloatVector b3 = FloatVector.broadcast(SPECIES, g[g3 + p]);
                w00 = u0.fma(b0, w00);
                w01 = u1.fma(b0, w01);
                w10 = u0.fma(b1, w10);
                w11 = u1.fma(b1, w11);
                w20 = u0.fma(b2, w20);
                w21 = u1.fma(b2, w21);
                w30 = u0.fma(b3, w30);
                w31 = u1.fma(b3, w31);
            }
            if (absolute) {
                w00 = w00.abs();
                w01 = w01.abs();
                w10 = w10.abs();
                w11 = w11.abs();
                w20 = w20.abs();
                w21 = w21.abs();
                w30 = w30.abs();
                w31 = w31.abs();
            } else {
                w00 = w00.mul(w00);
                w01 = w01.mul(w01);
                w10 = w10.mul(w10);
                w11 = w11.mul(w11);
                w20 = w20.mul(w20);
                w21 = w21.mul(w21);
                w30 = w30.mul(w30);
                w31 = w31.mul(w31);
            }
            FloatVector.fromArray(SPECIES, sums, 0).add(w00).intoArray(sums, 0);
            FloatVector.fromArray(SPECIES, sums, LANES).add(w01).intoArray(sums, LANES);
            FloatVector.fromArray(SPECIES, sums, 2 * LANES).add(w10).intoArray(sums, 2 * LANES);
            FloatVector.fromArray(SPECIES, sums, 3 * LANES).add(w11).intoArray(sums, 3 * LANES);
            FloatVector.fromArray(SPECIES, sums, 4 * LANES).add(w20).intoArray(sums, 4 * LANES);
            FloatVector.fromArray(SPECIES, sums, 5 * LANES).add(w21).intoArray(sums, 5 * LANES);
            FloatVector.fromArray(SPECIES, sums, 6 * LANES).add(w30).intoArray(sums, 6 * LANES);
            FloatVector.fromArray(SPECIES, sums, 7 * LANES).add(w31).intoArray(sums, 7 * LANES);
        }
        for (int r = 0; r < 4; r++) {
            int at = (i0 + r) * cols + j0;
            for (int v = 0; v < 2 * LANES; v++) {
                a[at + v] += sums[r * 2 * LANES + v];
            }
        }
    }

    /**
     * Direct per-sample products of a convolution, channels-last, nothing unfolded: for each window element
     * (ky, kx) and each tile of 4 input channels × two vectors of output channels (eight products in flight;
     * one vector, or one input channel, where fewer remain), W_n's tile is formed over the output positions whose
     * window element lies inside the input, by broadcast-FMAs on the rows of g and a, then squared (or made
     * absolute) into a partial sum laid out [ky][kx][c][o]; output channels past the last vector take a scalar loop. Blocks of samples run in parallel, each into its own
     * partial sum; the partial sums are added in order into acc's [o][c][ky][kx]. fp32 throughout.
     */
    @Override
    protected void doAccumulateConvPerSampleProducts(TensorList acc, TensorList g, TensorList a, ConvGeometry conv,
                                                     boolean absolute) {
        float[] w = arrays(acc)[0];
        float[] gs = arrays(g)[0];
        float[] as = arrays(a)[0];
        int samples = conv.samples();
        int partSize = Math.toIntExact(conv.weightSize());
        int tasks = (int) Math.min(samples, conv.multiplyAdds() < PARALLEL_THRESHOLD * 64 ? 1 : threads);
        float[][] parts = new float[Math.max(1, tasks)][partSize];
        long perSample = 4L * (conv.inputSize() + conv.outputSize()) / Math.max(1, samples);
        int block = (int) Math.max(1, Math.min(samples, CONV_BLOCK_BYTES / Math.max(1, perSample)));
        java.util.function.IntConsumer task = t -> {
            int from = (int) ((long) samples * t / tasks);
            int to = (int) ((long) samples * (t + 1) / tasks);
            for (int n = from; n < to; n += block) {
                convSamples(parts[t], gs, as, n, Math.min(to, n + block), conv, absolute);
            }
        };
        if (tasks < 2) {
            task.accept(0);
        } else {
            pool.submit(() -> java.util.stream.IntStream.range(0, tasks).parallel().forEach(task)).join();
        }
        int ci = conv.inChannels(), co = conv.outChannels(), taps = conv.kernel() * conv.kernel();
        float[] sum = parts[0];
        for (int t = 1; t < parts.length; t++) {
            float[] part = parts[t];
            int j = 0;
            for (int bound = SPECIES.loopBound(partSize); j < bound; j += LANES) {
                FloatVector.fromArray(SPECIES, sum, j).add(FloatVector.fromArray(SPECIES, part, j)).intoArray(sum, j);
            }
            for (; j < partSize; j++) {
                sum[j] += part[j];
            }
        }
        // [ky][kx][c][o] into acc's [o][c][ky][kx]: a transpose, blocked by 16 output channels so that it reads a
        // cache line of each row of sum and writes 16 rows of acc sequentially (one element at a time in either
        // order missed the cache and the TLB on nearly every access: 12 ms for ResNet's 512 x 4608 weights)
        for (int o0 = 0; o0 < co; o0 += 16) {
            int o1 = Math.min(co, o0 + 16);
            for (int c = 0; c < ci; c++) {
                for (int tap = 0; tap < taps; tap++) {
                    int from = (tap * ci + c) * co;
                    for (int o = o0; o < o1; o++) {
                        int e = (o * ci + c) * taps + tap;
                        w[e] = w[e] + sum[from + o];
                    }
                }
            }
        }
    }

    private static final int CONV_TILE_CHANNELS = 4;

    /**
     * The output positions one window element (ky, kx) reaches inside the input: rows [y0, y1) × columns [x0, x1)
     * of the output, walked in one flat loop (row by row). One flat loop rather than nested row and column loops:
     * JDK 17's C2 keeps vector accumulators in registers across one loop, but boxes them on the heap when they are
     * carried by nested loops with bounds known only at run time (measured: 30× slower).
     */
    private record Window(int count, int width, int g, int gSkip, int a, int aStep, int aSkip, int lastG) {

        static Window of(ConvGeometry conv, int n, int ky, int kx) {
            int y0 = conv.firstOutput(ky), y1 = conv.endOutput(ky, conv.inHeight(), conv.outHeight());
            int x0 = conv.firstOutput(kx), x1 = conv.endOutput(kx, conv.inWidth(), conv.outWidth());
            int rows = Math.max(0, y1 - y0), width = Math.max(0, x1 - x0);
            int co = conv.outChannels(), ci = conv.inChannels(), s = conv.stride();
            int g = ((n * conv.outHeight() + y0) * conv.outWidth() + x0) * co;
            int a = ((n * conv.inHeight() + y0 * s - conv.padding() + ky) * conv.inWidth() + x0 * s - conv.padding() + kx) * ci;
            // after a row of width positions: g moves to the next output row, a by stride input rows
            int gSkip = (conv.outWidth() - width) * co;
            int aSkip = (s * conv.inWidth() - width * s) * ci;
            int lastG = rows == 0 ? 0 : (rows - 1) * conv.outWidth() * co + (width - 1) * co; // the last position, from g
            return new Window(rows * width, width, g, gSkip, a, s * ci, aSkip, lastG);
        }
    }

    /**
     * Samples [n0, n1) whose input and output gradient fit in the cache together: CONV_BLOCK_BYTES. The tiles go
     * round the samples, not the other way: a tile's sums in part then stay in L1 across the block's samples, where
     * a sample going round every tile would read and write all of part once per sample (9 MB for ResNet's 512 × 4608
     * weights).
     */
    private static final long CONV_BLOCK_BYTES = 256 << 10;

    /** f(W_n) of samples [n0, n1) added into part ([ky][kx][c][o]). */
    private static void convSamples(float[] part, float[] g, float[] a, int n0, int n1, ConvGeometry conv, boolean absolute) {
        int ci = conv.inChannels(), co = conv.outChannels(), k = conv.kernel();
        int gSample = conv.outHeight() * conv.outWidth() * co, aSample = conv.inHeight() * conv.inWidth() * ci;
        float[] spill = new float[LANES]; // a partial tile's lanes, for its scalar epilogue
        for (int ky = 0; ky < k; ky++) {
            for (int kx = 0; kx < k; kx++) {
                Window win = Window.of(conv, n0, ky, kx);
                if (win.count() == 0) {
                    continue; // this window element lies in the padding for every output position
                }
                int tapBase = (ky * k + kx) * ci;
                int o0 = 0;
                for (; o0 + 2 * LANES <= co; o0 += 2 * LANES) {
                    int c0 = 0;
                    for (; c0 + CONV_TILE_CHANNELS <= ci; c0 += CONV_TILE_CHANNELS) {
                        for (int n = n0, gn = win.g() + o0, an = win.a() + c0; n < n1; n++, gn += gSample, an += aSample) {
                            convTile4x2(part, g, a, win, gn, an, co, (tapBase + c0) * co + o0, absolute);
                        }
                    }
                    for (; c0 < ci; c0++) {
                        for (int n = n0, gn = win.g() + o0, an = win.a() + c0; n < n1; n++, gn += gSample, an += aSample) {
                            convTile1(part, g, a, win, gn, an, co, (tapBase + c0) * co + o0, absolute, LANES, spill);
                            convTile1(part, g, a, win, gn + LANES, an, co, (tapBase + c0) * co + o0 + LANES, absolute, LANES, spill);
                        }
                    }
                }
                for (; o0 + LANES <= co; o0 += LANES) {
                    int c0 = 0;
                    for (; c0 + CONV_TILE_CHANNELS <= ci; c0 += CONV_TILE_CHANNELS) {
                        for (int n = n0, gn = win.g() + o0, an = win.a() + c0; n < n1; n++, gn += gSample, an += aSample) {
                            convTile4x1(part, g, a, win, gn, an, co, (tapBase + c0) * co + o0, absolute, LANES, spill);
                        }
                    }
                    for (; c0 < ci; c0++) {
                        for (int n = n0, gn = win.g() + o0, an = win.a() + c0; n < n1; n++, gn += gSample, an += aSample) {
                            convTile1(part, g, a, win, gn, an, co, (tapBase + c0) * co + o0, absolute, LANES, spill);
                        }
                    }
                }
                if (o0 < co) {
                    // The output channels past the last full vector: a vector tile whose lanes past co read the next
                    // channels along (their products are dropped in the epilogue), wherever that stays in the array;
                    // the last samples' last positions, where it would not, take the scalar loop.
                    int lanes = co - o0;
                    for (int n = n0, gn = win.g() + o0, an = win.a(); n < n1; n++, gn += gSample, an += aSample) {
                        boolean inside = gn + win.lastG() + LANES <= g.length;
                        int c0 = 0;
                        for (; inside && c0 + CONV_TILE_CHANNELS <= ci; c0 += CONV_TILE_CHANNELS) {
                            convTile4x1(part, g, a, win, gn, an + c0, co, (tapBase + c0) * co + o0, absolute, lanes, spill);
                        }
                        for (; inside && c0 < ci; c0++) {
                            convTile1(part, g, a, win, gn, an + c0, co, (tapBase + c0) * co + o0, absolute, lanes, spill);
                        }
                        for (; c0 < ci; c0++) {
                            for (int o = o0; o < co; o++) {
                                part[(tapBase + c0) * co + o] += convScalar(g, a, win, gn + o - o0, an + c0, co, absolute);
                            }
                        }
                    }
                }
            }
        }
    }

    /** f(one element of W_n): output channel at g0, input channel at a0, over the window's positions. */
    private static float convScalar(float[] g, float[] a, Window win, int g0, int a0, int co, boolean absolute) {
        float w = 0;
        int gi = g0, ai = a0;
        for (int i = 0, x = 0; i < win.count(); i++) {
            w += g[gi] * a[ai];
            gi += co;
            ai += win.aStep();
            if (++x == win.width()) {
                x = 0;
                gi += win.gSkip();
                ai += win.aSkip();
            }
        }
        return absolute ? Math.abs(w) : w * w;
    }

    /** Input channels [c0, c0 + 4) × output channels [o0, o0 + 2·LANES): eight products in flight per position. */
    private static void convTile4x2(float[] part, float[] g, float[] a, Window win, int g0, int a0, int co, int at,
                                    boolean absolute) {
        FloatVector w0 = FloatVector.zero(SPECIES), w1 = w0, w2 = w0, w3 = w0, v0 = w0, v1 = w0, v2 = w0, v3 = w0;
        int gi = g0, ai = a0, count = win.count(), width = win.width();
        int aStep = win.aStep(), gSkip = win.gSkip(), aSkip = win.aSkip();
        for (int i = 0, x = 0; i < count; i++) {
            FloatVector ga = FloatVector.fromArray(SPECIES, g, gi);
            FloatVector gb = FloatVector.fromArray(SPECIES, g, gi + LANES);
            FloatVector b0 = FloatVector.broadcast(SPECIES, a[ai]);
            FloatVector b1 = FloatVector.broadcast(SPECIES, a[ai + 1]);
            FloatVector b2 = FloatVector.broadcast(SPECIES, a[ai + 2]);
            FloatVector b3 = FloatVector.broadcast(SPECIES, a[ai + 3]);
            w0 = ga.fma(b0, w0);
            w1 = ga.fma(b1, w1);
            w2 = ga.fma(b2, w2);
            w3 = ga.fma(b3, w3);
            v0 = gb.fma(b0, v0);
            v1 = gb.fma(b1, v1);
            v2 = gb.fma(b2, v2);
            v3 = gb.fma(b3, v3);
            gi += co;
            ai += aStep;
            if (++x == width) {
                x = 0;
                gi += gSkip;
                ai += aSkip;
            }
        }
        // The epilogue written out: a call passing a vector would box it
        if (absolute) {
            FloatVector.fromArray(SPECIES, part, at).add(w0.abs()).intoArray(part, at);
            FloatVector.fromArray(SPECIES, part, at + co).add(w1.abs()).intoArray(part, at + co);
            FloatVector.fromArray(SPECIES, part, at + 2 * co).add(w2.abs()).intoArray(part, at + 2 * co);
            FloatVector.fromArray(SPECIES, part, at + 3 * co).add(w3.abs()).intoArray(part, at + 3 * co);
            FloatVector.fromArray(SPECIES, part, at + LANES).add(v0.abs()).intoArray(part, at + LANES);
            FloatVector.fromArray(SPECIES, part, at + co + LANES).add(v1.abs()).intoArray(part, at + co + LANES);
            FloatVector.fromArray(SPECIES, part, at + 2 * co + LANES).add(v2.abs()).intoArray(part, at + 2 * co + LANES);
            FloatVector.fromArray(SPECIES, part, at + 3 * co + LANES).add(v3.abs()).intoArray(part, at + 3 * co + LANES);
        } else {
            FloatVector.fromArray(SPECIES, part, at).add(w0.mul(w0)).intoArray(part, at);
            FloatVector.fromArray(SPECIES, part, at + co).add(w1.mul(w1)).intoArray(part, at + co);
            FloatVector.fromArray(SPECIES, part, at + 2 * co).add(w2.mul(w2)).intoArray(part, at + 2 * co);
            FloatVector.fromArray(SPECIES, part, at + 3 * co).add(w3.mul(w3)).intoArray(part, at + 3 * co);
            FloatVector.fromArray(SPECIES, part, at + LANES).add(v0.mul(v0)).intoArray(part, at + LANES);
            FloatVector.fromArray(SPECIES, part, at + co + LANES).add(v1.mul(v1)).intoArray(part, at + co + LANES);
            FloatVector.fromArray(SPECIES, part, at + 2 * co + LANES).add(v2.mul(v2)).intoArray(part, at + 2 * co + LANES);
            FloatVector.fromArray(SPECIES, part, at + 3 * co + LANES).add(v3.mul(v3)).intoArray(part, at + 3 * co + LANES);
        }
    }

    /** Input channels [c0, c0 + 4) × output channels [o0, o0 + LANES). */
    private static void convTile4x1(float[] part, float[] g, float[] a, Window win, int g0, int a0, int co, int at,
                                    boolean absolute, int lanes, float[] spill) {
        FloatVector w0 = FloatVector.zero(SPECIES), w1 = w0, w2 = w0, w3 = w0;
        int gi = g0, ai = a0, count = win.count(), width = win.width();
        int aStep = win.aStep(), gSkip = win.gSkip(), aSkip = win.aSkip();
        for (int i = 0, x = 0; i < count; i++) {
            FloatVector ga = FloatVector.fromArray(SPECIES, g, gi);
            w0 = ga.fma(FloatVector.broadcast(SPECIES, a[ai]), w0);
            w1 = ga.fma(FloatVector.broadcast(SPECIES, a[ai + 1]), w1);
            w2 = ga.fma(FloatVector.broadcast(SPECIES, a[ai + 2]), w2);
            w3 = ga.fma(FloatVector.broadcast(SPECIES, a[ai + 3]), w3);
            gi += co;
            ai += aStep;
            if (++x == width) {
                x = 0;
                gi += gSkip;
                ai += aSkip;
            }
        }
        // one store per branch: a vector merged from two branches may be boxed
        if (lanes != LANES) {
            addLanes(part, at, absolute ? w0.abs() : w0.mul(w0), lanes, spill);
            addLanes(part, at + co, absolute ? w1.abs() : w1.mul(w1), lanes, spill);
            addLanes(part, at + 2 * co, absolute ? w2.abs() : w2.mul(w2), lanes, spill);
            addLanes(part, at + 3 * co, absolute ? w3.abs() : w3.mul(w3), lanes, spill);
        } else if (absolute) {
            FloatVector.fromArray(SPECIES, part, at).add(w0.abs()).intoArray(part, at);
            FloatVector.fromArray(SPECIES, part, at + co).add(w1.abs()).intoArray(part, at + co);
            FloatVector.fromArray(SPECIES, part, at + 2 * co).add(w2.abs()).intoArray(part, at + 2 * co);
            FloatVector.fromArray(SPECIES, part, at + 3 * co).add(w3.abs()).intoArray(part, at + 3 * co);
        } else {
            FloatVector.fromArray(SPECIES, part, at).add(w0.mul(w0)).intoArray(part, at);
            FloatVector.fromArray(SPECIES, part, at + co).add(w1.mul(w1)).intoArray(part, at + co);
            FloatVector.fromArray(SPECIES, part, at + 2 * co).add(w2.mul(w2)).intoArray(part, at + 2 * co);
            FloatVector.fromArray(SPECIES, part, at + 3 * co).add(w3.mul(w3)).intoArray(part, at + 3 * co);
        }
    }

    /** part[at, at + lanes) += the first lanes of v (a partial tile's epilogue, once per tile and sample). */
    private static void addLanes(float[] part, int at, FloatVector v, int lanes, float[] spill) {
        v.intoArray(spill, 0);
        for (int l = 0; l < lanes; l++) {
            part[at + l] += spill[l];
        }
    }

    /** One input channel c0 × output channels [o0, o0 + LANES): positions alternate between two accumulators. */
    private static void convTile1(float[] part, float[] g, float[] a, Window win, int g0, int a0, int co, int at,
                                  boolean absolute, int lanes, float[] spill) {
        FloatVector w0 = FloatVector.zero(SPECIES), w1 = w0;
        int gi = g0, ai = a0, count = win.count(), width = win.width();
        int aStep = win.aStep(), gSkip = win.gSkip(), aSkip = win.aSkip();
        int i = 0;
        for (int x = 0; i + 1 < count; i += 2) {
            w0 = FloatVector.fromArray(SPECIES, g, gi).fma(FloatVector.broadcast(SPECIES, a[ai]), w0);
            gi += co;
            ai += aStep;
            if (++x == width) {
                x = 0;
                gi += gSkip;
                ai += aSkip;
            }
            w1 = FloatVector.fromArray(SPECIES, g, gi).fma(FloatVector.broadcast(SPECIES, a[ai]), w1);
            gi += co;
            ai += aStep;
            if (++x == width) {
                x = 0;
                gi += gSkip;
                ai += aSkip;
            }
        }
        if (i < count) {
            w0 = FloatVector.fromArray(SPECIES, g, gi).fma(FloatVector.broadcast(SPECIES, a[ai]), w0);
        }
        w0 = w0.add(w1);
        // one store per branch: a vector merged from two branches may be boxed
        if (lanes != LANES) {
            addLanes(part, at, absolute ? w0.abs() : w0.mul(w0), lanes, spill);
        } else if (absolute) {
            FloatVector.fromArray(SPECIES, part, at).add(w0.abs()).intoArray(part, at);
        } else {
            FloatVector.fromArray(SPECIES, part, at).add(w0.mul(w0)).intoArray(part, at);
        }
    }

    // ---- updates --------------------------------------------------------------------------------

    @Override
    protected long doSsdDampen(TensorList theta, TensorList importanceFull, TensorList importanceForget, float alpha,
                               float lambda) {
        float[][] th = arrays(theta);
        float[][] ids = arrays(importanceFull);
        float[][] ifs = arrays(importanceForget);
        return count(th, (t, from, to) -> {
            float[] w = th[t];
            float[] d = ids[t];
            float[] f = ifs[t];
            long selected = 0;
            int j = from;
            for (int bound = from + SPECIES.loopBound(to - from); j < bound; j += LANES) {
                FloatVector iD = FloatVector.fromArray(SPECIES, d, j);
                FloatVector iF = FloatVector.fromArray(SPECIES, f, j);
                VectorMask<Float> sel = iF.compare(VectorOperators.GT, iD.mul(alpha));
                if (sel.anyTrue()) {
                    FloatVector beta = iD.mul(lambda).div(iF, sel); // unselected lanes are never divided
                    beta = beta.blend(1f, beta.compare(VectorOperators.GT, 1f));
                    FloatVector.fromArray(SPECIES, w, j).mul(beta, sel).intoArray(w, j);
                    selected += sel.trueCount();
                }
            }
            for (; j < to; j++) {
                float iD = d[j];
                float iF = f[j];
                if (iF > iD * alpha) {
                    float beta = (iD * lambda) / iF;
                    w[j] = w[j] * (beta > 1f ? 1f : beta);
                    selected++;
                }
            }
            return selected;
        });
    }

    @Override
    protected long doRatioReset(TensorList theta, TensorList mask, TensorList importanceForget,
                                TensorList importanceRetain, float epsilon, float gamma) {
        float[][] th = arrays(theta);
        float[][] ms = arrays(mask);
        float[][] ifs = arrays(importanceForget);
        float[][] irs = arrays(importanceRetain);
        FloatVector zero = FloatVector.zero(SPECIES);
        return count(th, (t, from, to) -> {
            float[] w = th[t];
            float[] m = ms[t];
            float[] f = ifs[t];
            float[] r = irs[t];
            long reset = 0;
            int j = from;
            for (int bound = from + SPECIES.loopBound(to - from); j < bound; j += LANES) {
                FloatVector ratio = FloatVector.fromArray(SPECIES, f, j).div(FloatVector.fromArray(SPECIES, r, j).add(epsilon));
                VectorMask<Float> sel = ratio.compare(VectorOperators.GT, gamma);
                FloatVector.fromArray(SPECIES, w, j).blend(0f, sel).intoArray(w, j);
                zero.blend(1f, sel).intoArray(m, j);
                reset += sel.trueCount();
            }
            for (; j < to; j++) {
                boolean sel = RatioKeys.ratio(f[j], r[j], epsilon) > gamma;
                if (sel) {
                    w[j] = 0f;
                    reset++;
                }
                m[j] = sel ? 1f : 0f;
            }
            return reset;
        });
    }

    @Override
    protected long[] doRatioHistogram(TensorList importanceForget, TensorList importanceRetain, float epsilon, int shift,
                                      int bits, int prefix, int prefixMask) {
        float[][] ifs = arrays(importanceForget);
        float[][] irs = arrays(importanceRetain);
        int digitMask = (1 << bits) - 1;
        return reduce(ifs, () -> new long[1 << bits], (bins, t, from, to) -> {
            float[] f = ifs[t];
            float[] r = irs[t];
            int[] keys = new int[LANES];
            int j = from;
            for (int bound = from + SPECIES.loopBound(to - from); j < bound; j += LANES) {
                FloatVector ratio = FloatVector.fromArray(SPECIES, f, j).div(FloatVector.fromArray(SPECIES, r, j).add(epsilon));
                IntVector raw = (IntVector) ratio.reinterpretAsInts();
                // key = bits ^ (bits < 0 ? 0xFFFFFFFF : 0x80000000), and 0 for NaN: RatioKeys.key, lane-wise.
                VectorMask<Integer> nan = ratio.compare(VectorOperators.NE, ratio).cast(raw.species());
                raw.lanewise(VectorOperators.XOR, raw.lanewise(VectorOperators.ASHR, 31).or(0x8000_0000))
                        .blend(0, nan).intoArray(keys, 0);
                for (int key : keys) {
                    if ((key & prefixMask) == prefix) {
                        bins[(key >>> shift) & digitMask]++;
                    }
                }
            }
            for (; j < to; j++) {
                int key = RatioKeys.key(RatioKeys.ratio(f[j], r[j], epsilon));
                if ((key & prefixMask) == prefix) {
                    bins[(key >>> shift) & digitMask]++;
                }
            }
        }, (a, b) -> {
            for (int i = 0; i < a.length; i++) {
                a[i] += b[i];
            }
            return a;
        });
    }

    @Override
    protected float[] doRatioShift(TensorList w, TensorList fisherForget, TensorList fisherRetain, float sign,
                                   float lambda1, float lambda2) {
        float[][] ws = arrays(w);
        float[][] ffs = arrays(fisherForget);
        float[][] frs = arrays(fisherRetain);
        int n = ws.length;
        // Pass 1, per tensor: the largest η whose d is finite, and whether d is NaN or ±inf anywhere.
        ShiftScan scan = reduce(ws, () -> new ShiftScan(n), (s, t, from, to) -> {
            float[] f = ffs[t];
            float[] r = frs[t];
            FloatVector max = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
            FloatVector seenNaN = FloatVector.zero(SPECIES); // 1 in a lane that met the class, as a vector: no mask logic
            FloatVector seenInf = seenNaN;
            int j = from;
            for (int bound = from + SPECIES.loopBound(to - from); j < bound; j += LANES) {
                FloatVector fv = FloatVector.fromArray(SPECIES, f, j);
                FloatVector rv = FloatVector.fromArray(SPECIES, r, j);
                FloatVector eta = fv.div(rv);
                FloatVector kind = shiftClass(fv, rv, eta);
                seenNaN = seenNaN.blend(1f, kind.compare(VectorOperators.EQ, SHIFT_NAN));
                seenInf = seenInf.blend(1f, kind.compare(VectorOperators.EQ, SHIFT_INFINITE));
                max = max.max(eta.blend(Float.NEGATIVE_INFINITY, kind.compare(VectorOperators.NE, SHIFT_FINITE)));
            }
            float m = max.reduceLanes(VectorOperators.MAX);
            boolean nan = seenNaN.reduceLanes(VectorOperators.MAX) > 0;
            boolean inf = seenInf.reduceLanes(VectorOperators.MAX) > 0;
            for (; j < to; j++) {
                switch (MnemonicMath.classify(f[j], r[j])) {
                    case MnemonicMath.NAN -> nan = true;
                    case MnemonicMath.INFINITE -> inf = true;
                    default -> m = Math.max(m, MnemonicMath.quotient(f[j], r[j]));
                }
            }
            s.observe(t, m, nan, inf);
        }, ShiftScan::merge);
        float[] alphas = new float[n];
        float[] fills = new float[n];
        for (int t = 0; t < n; t++) {
            alphas[t] = MnemonicMath.alpha(scan.maxFinite[t], scan.sawNaN[t], scan.sawInf[t], lambda1, lambda2);
            fills[t] = MnemonicMath.infFill(scan.maxFinite[t]);
        }
        // Pass 2: w ± alpha_l·η.
        forEach(ws, (t, from, to) -> {
            float[] wv = ws[t];
            float[] f = ffs[t];
            float[] r = frs[t];
            float alpha = alphas[t];
            float signedAlpha = sign > 0 ? alpha : -alpha; // w − alpha·η = w + (−alpha)·η exactly
            float fill = fills[t];
            int j = from;
            for (int bound = from + SPECIES.loopBound(to - from); j < bound; j += LANES) {
                FloatVector fv = FloatVector.fromArray(SPECIES, f, j);
                FloatVector rv = FloatVector.fromArray(SPECIES, r, j);
                FloatVector eta = fv.div(rv);
                FloatVector kind = shiftClass(fv, rv, eta);
                FloatVector step = eta.blend(fill, kind.compare(VectorOperators.EQ, SHIFT_INFINITE))
                        .blend(1f, kind.compare(VectorOperators.EQ, SHIFT_NAN)).mul(signedAlpha);
                FloatVector.fromArray(SPECIES, wv, j).add(step).intoArray(wv, j);
            }
            for (; j < to; j++) {
                float step = alpha * MnemonicMath.eta(f[j], r[j], fill);
                wv[j] = sign > 0 ? wv[j] + step : wv[j] - step;
            }
        });
        return alphas;
    }

    private static final float SHIFT_FINITE = 0f;
    private static final float SHIFT_NAN = 1f;
    private static final float SHIFT_INFINITE = 2f;

    /**
     * MnemonicMath's classification for LANES elements, as a vector of SHIFT_FINITE, SHIFT_NAN or SHIFT_INFINITE,
     * in float lanes and without mask logic: on JDK 17 casting masks from double lanes to float lanes, and and/or/not
     * of masks, are not compiled to vector code (they ran this kernel at 30 ns per element); compares and blends are.
     * η itself is fF / fR in float: IEEE division is correctly rounded, so it equals the reference's double quotient
     * rounded to float. For non-negative floats that double quotient is NaN for 0/0 and inf/inf, zero or infinite
     * exactly when fF or fR is 0 or +inf (it neither overflows nor underflows), which is what the blends test.
     */
    private static FloatVector shiftClass(FloatVector fv, FloatVector rv, FloatVector eta) {
        return FloatVector.broadcast(SPECIES, SHIFT_FINITE)
                .blend(SHIFT_INFINITE, fv.compare(VectorOperators.EQ, 0f))
                .blend(SHIFT_INFINITE, rv.compare(VectorOperators.EQ, 0f))
                .blend(SHIFT_INFINITE, fv.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY))
                .blend(SHIFT_INFINITE, rv.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY))
                .blend(SHIFT_NAN, eta.compare(VectorOperators.NE, eta)) // a NaN input, 0/0, inf/inf
                .blend(SHIFT_NAN, fv.compare(VectorOperators.LT, 0f)) // negative (−0.0 is not: ln −0 = −inf)
                .blend(SHIFT_NAN, rv.compare(VectorOperators.LT, 0f));
    }

    /** Per-tensor results of the first ratioShift pass. */
    private static final class ShiftScan {
        final float[] maxFinite;
        final boolean[] sawNaN;
        final boolean[] sawInf;

        ShiftScan(int n) {
            maxFinite = new float[n];
            Arrays.fill(maxFinite, Float.NEGATIVE_INFINITY);
            sawNaN = new boolean[n];
            sawInf = new boolean[n];
        }

        void observe(int t, float max, boolean nan, boolean inf) {
            maxFinite[t] = Math.max(maxFinite[t], max);
            sawNaN[t] |= nan;
            sawInf[t] |= inf;
        }

        ShiftScan merge(ShiftScan o) {
            for (int t = 0; t < maxFinite.length; t++) {
                observe(t, o.maxFinite[t], o.sawNaN[t], o.sawInf[t]);
            }
            return this;
        }
    }

    // ---- statistics -----------------------------------------------------------------------------

    @Override
    protected TensorStats[] doStats(TensorList x) {
        float[][] xs = arrays(x);
        int n = xs.length;
        StatsAcc acc = reduce(xs, () -> new StatsAcc(n), (s, t, from, to) -> {
            if (!statsAllFinite(s, t, xs[t], from, to)) {
                statsMasked(s, t, xs[t], from, to);
            }
        }, StatsAcc::merge);
        TensorStats[] out = new TensorStats[n];
        for (int t = 0; t < n; t++) {
            out[t] = new TensorStats(xs[t].length, acc.sum[t], acc.max[t], acc.bad[t]);
        }
        return out;
    }

    /**
     * The common case, every value finite: plain adds and max. A NaN or infinity anywhere makes the sum
     * non-finite and the caller redoes the chunk with masks (so does a float sum that overflows; the masked
     * path then notices the overflow and sums in doubles). When every value is finite both paths perform
     * the same operations, so the result does not depend on the path.
     */
    private static boolean statsAllFinite(StatsAcc s, int t, float[] v, int from, int to) {
        // Two accumulators, so consecutive adds do not wait on each other.
        FloatVector sum0 = FloatVector.zero(SPECIES);
        FloatVector sum1 = FloatVector.zero(SPECIES);
        // Two max chains as well: MAX with Java's NaN and -0.0 rules is several instructions, so one chain
        // would make the loop latency-bound.
        FloatVector max0 = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        FloatVector max1 = max0;
        int j = from;
        for (int bound = from + SPECIES.loopBound((to - from) / 2) * 2; j < bound; j += 2 * LANES) {
            FloatVector a = FloatVector.fromArray(SPECIES, v, j);
            FloatVector b = FloatVector.fromArray(SPECIES, v, j + LANES);
            sum0 = sum0.add(a);
            sum1 = sum1.add(b);
            max0 = max0.lanewise(VectorOperators.MAX, a);
            max1 = max1.lanewise(VectorOperators.MAX, b);
        }
        float lanes0 = sum0.reduceLanes(VectorOperators.ADD);
        float lanes1 = sum1.reduceLanes(VectorOperators.ADD);
        double sum = (double) lanes0 + lanes1;
        float m = max0.lanewise(VectorOperators.MAX, max1).reduceLanes(VectorOperators.MAX);
        for (; j < to; j++) {
            sum += v[j];
            m = Math.max(m, v[j]);
        }
        if (!Float.isFinite(lanes0) || !Float.isFinite(lanes1) || !Double.isFinite(sum) || Float.isNaN(m)
                || m == Float.POSITIVE_INFINITY) {
            return false;
        }
        s.sum[t] += sum;
        s.max[t] = Math.max(s.max[t], m);
        return true;
    }

    /** Every value tested: non-finite ones are counted and left out of the sum and the max. */
    private static void statsMasked(StatsAcc s, int t, float[] v, int from, int to) {
        FloatVector sum0 = FloatVector.zero(SPECIES);
        FloatVector sum1 = FloatVector.zero(SPECIES);
        FloatVector max = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        long bad = 0;
        int j = from;
        for (int bound = from + SPECIES.loopBound((to - from) / 2) * 2; j < bound; j += 2 * LANES) {
            FloatVector a = FloatVector.fromArray(SPECIES, v, j);
            FloatVector b = FloatVector.fromArray(SPECIES, v, j + LANES);
            VectorMask<Float> fa = finite(a);
            VectorMask<Float> fb = finite(b);
            sum0 = sum0.add(a, fa);
            sum1 = sum1.add(b, fb);
            max = max.lanewise(VectorOperators.MAX, a, fa).lanewise(VectorOperators.MAX, b, fb);
            bad += 2L * LANES - fa.trueCount() - fb.trueCount();
        }
        float lanes0 = sum0.reduceLanes(VectorOperators.ADD);
        float lanes1 = sum1.reduceLanes(VectorOperators.ADD);
        double sum = (double) lanes0 + lanes1;
        float m = max.reduceLanes(VectorOperators.MAX);
        for (; j < to; j++) {
            if (Float.isFinite(v[j])) {
                sum += v[j];
                m = Math.max(m, v[j]);
            } else {
                bad++;
            }
        }
        if (!Float.isFinite(lanes0) || !Float.isFinite(lanes1)) {
            // Only finite values were added, so the float lanes overflowed (values near Float.MAX_VALUE):
            // rare enough to redo the sum one element at a time in doubles, as the reference does.
            sum = finiteSumInDoubles(v, from, to);
        }
        s.sum[t] += sum;
        s.max[t] = Math.max(s.max[t], m);
        s.bad[t] += bad;
    }

    private static double finiteSumInDoubles(float[] v, int from, int to) {
        double sum = 0;
        for (int j = from; j < to; j++) {
            if (Float.isFinite(v[j])) {
                sum += v[j];
            }
        }
        return sum;
    }

    /**
     * x − x is 0 exactly for finite x (NaN for NaN and ±inf): one subtract and one compare, both intrinsics,
     * where test(IS_FINITE) is not compiled to vector code on every JDK.
     */
    private static VectorMask<Float> finite(FloatVector x) {
        return x.sub(x).compare(VectorOperators.EQ, 0f);
    }

    private static final class StatsAcc {
        final double[] sum;
        final float[] max;
        final long[] bad;

        StatsAcc(int n) {
            sum = new double[n];
            max = new float[n];
            Arrays.fill(max, Float.NEGATIVE_INFINITY);
            bad = new long[n];
        }

        StatsAcc merge(StatsAcc o) {
            for (int t = 0; t < sum.length; t++) {
                sum[t] += o.sum[t];
                max[t] = Math.max(max[t], o.max[t]);
                bad[t] += o.bad[t];
            }
            return this;
        }
    }

    // ---- parallel chunk machinery ---------------------------------------------------------------

    /** Work on elements [from, to) of tensor t. */
    @FunctionalInterface
    private interface ChunkAction {
        void run(int t, int from, int to);
    }

    /** Work on elements [from, to) of tensor t that returns a count. */
    @FunctionalInterface
    private interface ChunkCount {
        long run(int t, int from, int to);
    }

    /** Work on elements [from, to) of tensor t that adds into a per-task accumulator. */
    @FunctionalInterface
    private interface ChunkReduce<A> {
        void run(A acc, int t, int from, int to);
    }

    private void forEach(float[][] shape, ChunkAction action) {
        reduce(shape, () -> null, (Object ignored, int t, int from, int to) -> action.run(t, from, to), (a, b) -> a);
    }

    private long count(float[][] shape, ChunkCount body) {
        return reduce(shape, () -> new long[1], (acc, t, from, to) -> acc[0] += body.run(t, from, to),
                (a, b) -> {
                    a[0] += b[0];
                    return a;
                })[0];
    }

    /** Runs body over every chunk of every tensor, one accumulator per task, merged in any order. */
    private <A> A reduce(float[][] shape, Supplier<A> init, ChunkReduce<A> body, BinaryOperator<A> merge) {
        Chunks chunks = Chunks.of(shape);
        if (threads == 1 || chunks.elements < PARALLEL_THRESHOLD) {
            A acc = init.get();
            for (int c = 0; c < chunks.count; c++) {
                body.run(acc, chunks.tensor[c], chunks.from[c], chunks.to[c]);
            }
            return acc;
        }
        int leaf = Math.max(1, chunks.count / (threads * 4));
        return pool.invoke(new ReduceTask<>(chunks, 0, chunks.count, leaf, init, body, merge));
    }

    /** The chunk plan of a list: tensor index and element range of every chunk. */
    private static final class Chunks {
        final int count;
        final long elements;
        final int[] tensor;
        final int[] from;
        final int[] to;

        private Chunks(int count, long elements) {
            this.count = count;
            this.elements = elements;
            this.tensor = new int[count];
            this.from = new int[count];
            this.to = new int[count];
        }

        static Chunks of(float[][] shape) {
            int count = 0;
            long elements = 0;
            for (float[] a : shape) {
                count += (a.length + CHUNK - 1) / CHUNK;
                elements += a.length;
            }
            Chunks c = new Chunks(count, elements);
            int k = 0;
            for (int t = 0; t < shape.length; t++) {
                for (int start = 0; start < shape[t].length; start += CHUNK) {
                    c.tensor[k] = t;
                    c.from[k] = start;
                    c.to[k] = Math.min(shape[t].length, start + CHUNK);
                    k++;
                }
            }
            return c;
        }
    }

    private static final class ReduceTask<A> extends RecursiveTask<A> {
        private final Chunks chunks;
        private final int lo;
        private final int hi;
        private final int leaf;
        private final Supplier<A> init;
        private final ChunkReduce<A> body;
        private final BinaryOperator<A> merge;

        ReduceTask(Chunks chunks, int lo, int hi, int leaf, Supplier<A> init, ChunkReduce<A> body,
                   BinaryOperator<A> merge) {
            this.chunks = chunks;
            this.lo = lo;
            this.hi = hi;
            this.leaf = leaf;
            this.init = init;
            this.body = body;
            this.merge = merge;
        }

        @Override
        protected A compute() {
            if (hi - lo <= leaf) {
                A acc = init.get();
                for (int c = lo; c < hi; c++) {
                    body.run(acc, chunks.tensor[c], chunks.from[c], chunks.to[c]);
                }
                return acc;
            }
            int mid = (lo + hi) >>> 1;
            ReduceTask<A> left = new ReduceTask<>(chunks, lo, mid, leaf, init, body, merge);
            left.fork();
            A right = new ReduceTask<>(chunks, mid, hi, leaf, init, body, merge).compute();
            return merge.apply(left.join(), right);
        }
    }
}
