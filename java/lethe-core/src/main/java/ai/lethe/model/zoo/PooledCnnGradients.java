package ai.lethe.model.zoo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import ai.lethe.kernels.PooledConvGeometry;
import ai.lethe.kernels.PooledConvKernels;
import ai.lethe.model.Loss;

/**
 * The per-sample sums of the zoo cnn on the host, with the convolutions' backward in {@link PooledConvKernels}: each
 * convolution feeds a 2×2 max-pool and a ReLU, so its output gradient is non-zero at one position per window at
 * most (and only where the pooled value is positive), and the per-sample weight gradients and the input gradient
 * are formed from those positions alone — about a quarter of the dense products, with no output gradient tensor.
 *
 * <p>The winners must be the ones the one-sample loop sees, so the convolutions' values must be libtorch's bit for
 * bit: conv2's forward is libtorch's own call as in {@link CnnNet#forward} (channels-last, which rounds a batch as
 * one sample); the first block runs in Java in libtorch's summation order once a check has shown it identical
 * ({@link #firstBlock}). Max-pool and ReLU are exact, so their Java outputs, fed to the next convolution, are
 * libtorch's bit for bit. The head (fc1, ReLU, fc2, the loss) runs in {@link ai.lethe.kernels.HeadKernels} (its
 * values decide no winner, so its own summation order is fine), and the gradient at its input goes to the
 * convolutions' kernels. The cnn's convolutions are 3×3 with padding 1 ({@link CnnNet}).
 *
 * <p>Memory: each thread that runs a piece keeps its scratch arrays (about 52 floats per input pixel of a piece,
 * 10 MiB for 64 Fashion-MNIST samples, and five arrays the size of fc1's weight, 2 MiB) until it ends; helper
 * threads end 200 ms after their last piece, the estimator's workers with their pass.
 */
final class PooledCnnGradients {

    private PooledCnnGradients() {
    }

    private static final ai.lethe.kernels.ThreadScratch SCRATCH = new ai.lethe.kernels.ThreadScratch(15);

    private static float[] scratch(int slot, long size) {
        return SCRATCH.floats(slot, size);
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PooledCnnGradients.class);

    /**
     * Per piece shape ("samples x channels x side"): whether {@link PooledConvKernels#convPoolRelu} gives the first
     * block's pooled values and winners exactly as libtorch's normalisation, conv1 and max-pool do on this machine
     * (absent: not checked yet). The order it sums in is the one libtorch's CPU convolution uses here; a libtorch
     * that picks another kernel (another CPU, another build) fails the check, and the route keeps libtorch's conv1.
     */
    private static final java.util.concurrent.ConcurrentHashMap<String, Boolean> JAVA_CONV1 = new java.util.concurrent.ConcurrentHashMap<>();

    /** Tests: false makes every piece take libtorch's conv1, as where the check failed. */
    static volatile boolean javaConv1Allowed = true;

    /** Tests: the check's outcome for a piece shape, null before the first piece of that shape. */
    static Boolean javaConv1(int samples, int channels, int side) {
        return JAVA_CONV1.get(shape(samples, channels, side));
    }

    /** The key of {@link #JAVA_CONV1}. */
    private static String shape(int samples, int channels, int side) {
        return samples + "x" + channels + "x" + side;
    }

    /** Samples below which a piece of a batch is not worth its own thread (libtorch's per-call costs dominate). */
    static final int MIN_PIECE = 16;

    /** How many pieces {@link #sum} cuts a batch of {@code n} into with {@code threads} host threads. */
    static int piecesFor(int n, int threads) {
        return Math.max(1, Math.min(threads, n / MIN_PIECE));
    }

    /**
     * As {@link PerSampleGradients#sum}, for a {@link CnnNet} whose {@link CnnNet#pooledPerSample()} holds. A caller
     * alone with {@code threads} cores cuts the batch into {@link #piecesFor} contiguous pieces, each run on its own
     * thread from the convolutions' forward to the kernels (on one thread each) and added in piece order: libtorch's
     * calls on a batch of this size leave cores idle, and one thread's libtorch calls overlap another's kernels.
     * A caller running as one of several workers side by side ({@link ai.lethe.kernels.HostThreads}: the
     * estimator's, one per core by default) uses its share of the threads.
     */
    static Map<String, Tensor> sumOnThreads(CnnNet net, Tensor x, Tensor labels, Loss loss, boolean absolute,
                                            PooledConvKernels kernels, int threads) {
        // this caller's share of the threads, for its pieces or, in one piece, for the kernels' own tasks (a worker
        // beside others keeps its kernels on its own thread: tasks in the common pool as well were more threads
        // than cores). Declared by the caller, not counted here: the cut decides how the sums are rounded.
        int share = ai.lethe.kernels.HostThreads.share(threads);
        return sum(net, x, labels, loss, absolute, kernels.onThreads(share), piecesFor(Math.toIntExact(x.size(0)), share));
    }

    /** As {@link #sumOnThreads}, in {@code pieces} pieces (one piece: on the calling thread alone). */
    static Map<String, Tensor> sum(CnnNet net, Tensor x, Tensor labels, Loss loss, boolean absolute, PooledConvKernels kernels,
                                   int pieces) {
        int n = Math.toIntExact(x.size(0));
        int parts = Math.max(1, Math.min(pieces, n));
        if (parts == 1) {
            return piece(net, x, labels, loss, absolute, kernels);
        }
        PooledConvKernels oneThread = kernels.onThreads(1);
        List<java.util.concurrent.FutureTask<Map<String, float[]>>> runs = new ArrayList<>();
        for (int p = 0; p < parts; p++) {
            long from = (long) n * p / parts, to = (long) n * (p + 1) / parts;
            Tensor xp = x.narrow(0, from, to - from);
            Tensor lp = labels == null ? null : labels.narrow(0, from, to - from);
            runs.add(new java.util.concurrent.FutureTask<>(() -> {
                try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
                    Map<String, float[]> m = new LinkedHashMap<>(); // as arrays: the scope frees this piece's tensors
                    piece(net, xp, lp, loss, absolute, oneThread).forEach((k, v) -> m.put(k, PerSampleGradients.floats(v)));
                    return m;
                }
            }));
        }
        // Piece 0 on the calling thread, the others on helper threads that exit a moment after a pass's last batch:
        // every thread running libtorch has an OpenMP team of its own, and while more OpenMP threads exist than cores
        // libgomp stops spinning between parallel regions, which slowed later libtorch passes by 20-35% while a pool
        // kept its threads; a fresh thread per batch instead pays for a new team each time (the pass took twice as long)
        for (int p = 1; p < parts; p++) {
            HELPERS.execute(runs.get(p));
        }
        runs.get(0).run();
        List<Map<String, float[]>> results = new ArrayList<>();
        RuntimeException failure = null;
        for (java.util.concurrent.FutureTask<Map<String, float[]>> run : runs) { // every piece ends before this returns
            try {
                results.add(run.get());
            } catch (java.util.concurrent.ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause()); // as one piece would throw it
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) {
                    failure = new IllegalStateException("interrupted while waiting for per-sample gradients", e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
        Map<String, float[]> total = results.get(0);
        for (int p = 1; p < parts; p++) {
            for (Map.Entry<String, float[]> e : results.get(p).entrySet()) {
                float[] sum = total.get(e.getKey());
                float[] part = e.getValue();
                for (int j = 0; j < sum.length; j++) {
                    sum[j] += part[j];
                }
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        total.forEach((k, v) -> out.put(k, Net.tensor(v, net.parameters().get(k).sizes().vec().get())));
        return out;
    }

    private static final java.util.concurrent.atomic.AtomicInteger PIECE_IDS = new java.util.concurrent.atomic.AtomicInteger();

    /** Helper threads for pieces 1, 2, ...: created on demand, gone after 200 ms without work. */
    private static final java.util.concurrent.ThreadPoolExecutor HELPERS = new java.util.concurrent.ThreadPoolExecutor(0,
            Integer.MAX_VALUE, 200, java.util.concurrent.TimeUnit.MILLISECONDS, new java.util.concurrent.SynchronousQueue<>(), r -> {
                Thread t = new Thread(r, "lethe-cnn-per-sample-" + PIECE_IDS.incrementAndGet());
                t.setDaemon(true);
                return t;
            });

    private static Map<String, Tensor> piece(CnnNet net, Tensor x, Tensor labels, Loss loss, boolean absolute, PooledConvKernels kernels) {
        int n = Math.toIntExact(x.size(0));
        int cin = Math.toIntExact(x.size(1)), side = Math.toIntExact(x.size(2));
        Map<String, Tensor> params = net.parameters();
        int c1 = Math.toIntExact(params.get("conv1.weight").size(0));
        int c2 = Math.toIntExact(params.get("conv2.weight").size(0));
        PooledConvGeometry g1 = new PooledConvGeometry(n, cin, side, side, c1, 3, 1);
        PooledConvGeometry g2 = new PooledConvGeometry(n, c1, side / 2, side / 2, c2, 3, 1);
        float[] h = scratch(0, (long) n * g1.inputPerSample());
        float[] pooled1 = scratch(2, (long) n * g1.pooledPerSample());
        float[] winner1 = scratch(3, (long) n * g1.pooledPerSample());
        float[] conv2 = scratch(4, 4L * n * g2.pooledPerSample());
        float[] pooled2 = scratch(5, (long) n * g2.pooledPerSample());
        float[] winner2 = scratch(6, (long) n * g2.pooledPerSample());
        float[] grad2 = scratch(7, (long) n * g2.pooledPerSample());
        float[] grad1 = scratch(8, (long) n * g1.pooledPerSample());
        try (NoGradGuard off = new NoGradGuard()) {
            firstBlock(net, x, g1, kernels, h, pooled1, winner1);
            Tensor p1 = tensorChannelsLast(pooled1, n, c1, side / 2, side / 2);
            channelsLast(net.conv("conv2", p1), conv2);
        }
        kernels.poolRelu(conv2, n, side / 2, side / 2, c2, pooled2, winner2);
        // The head as CnnNet.head computes it, in HeadKernels, on the channels-last features as pooled2 holds them
        // with fc1's weight columns put in that order (the same products summed in another order, as a batched GEMM
        // already sums them differently from a one-sample forward); its sums go back to fc1's own column order.
        int features = g2.pooledPerSample(), positions = g2.pooledPositions();
        int hidden = Math.toIntExact(params.get("fc1.weight").size(0)), classes = Math.toIntExact(params.get("fc2.weight").size(0));
        // fc1's weight (100 K floats for Fashion-MNIST), reordered, and its sums: scratch reused batch after batch
        int w3Size = hidden * features;
        float[] w3 = scratch(12, w3Size), s3 = scratch(13, w3Size), s3Own = scratch(14, w3Size);
        params.get("fc1.weight").contiguous().data_ptr_float().get(w3, 0, w3Size);
        Arrays.fill(s3, 0, w3Size, 0f); // the kernel adds to it
        float[] w3ChannelsLast = FC1_CHANNELS_LAST.get().of(w3, hidden, c2, positions);
        int[] classOf = null;
        if (loss == Loss.CROSS_ENTROPY) {
            long[] l = new long[n];
            labels.contiguous().data_ptr_long().get(l);
            classOf = new int[n];
            for (int i = 0; i < n; i++) {
                classOf[i] = Math.toIntExact(l[i]);
            }
        }
        float[] sb3 = new float[hidden], s4 = new float[classes * hidden], sb4 = new float[classes];
        kernels.head().backward(n, features, hidden, classes, pooled2, w3ChannelsLast, PerSampleGradients.floats(params.get("fc1.bias")),
                PerSampleGradients.floats(params.get("fc2.weight")), PerSampleGradients.floats(params.get("fc2.bias")), classOf, absolute,
                s3, sb3, s4, sb4, grad2);
        swapColumnOrder(s3, s3Own, hidden, positions, c2); // back to [hidden][C·P]
        float[] s2 = new float[g2.weightSize()], b2 = new float[c2];
        kernels.backward(g2, pooled1, PerSampleGradients.floats(params.get("conv2.weight")), grad2, pooled2, winner2, absolute, s2, b2, grad1);
        float[] s1 = new float[g1.weightSize()], b1 = new float[c1];
        kernels.backward(g1, h, PerSampleGradients.floats(params.get("conv1.weight")), grad1, pooled1, winner1, absolute, s1, b1, null);
        Map<String, Tensor> out = new LinkedHashMap<>(); // in the network's parameter order
        out.put("conv1.weight", Net.tensor(s1, c1, cin, 3, 3));
        out.put("conv1.bias", Net.tensor(b1, c1));
        out.put("conv2.weight", Net.tensor(s2, c2, c1, 3, 3));
        out.put("conv2.bias", Net.tensor(b2, c2));
        out.put("fc1.weight", tensor(s3Own, w3Size, hidden, features));
        out.put("fc1.bias", Net.tensor(sb3, hidden));
        out.put("fc2.weight", Net.tensor(s4, classes, hidden));
        out.put("fc2.bias", Net.tensor(sb4, classes));
        return out;
    }

    /**
     * h = the normalised input, channels-last; pooled1 and winner1 = the first block's max-pool and ReLU, and the
     * max-pool's winners. In Java ({@link PooledConvKernels#convPoolRelu}: no conv1 output tensor, no
     * channels-last copy, about a fifth of the pass) once the check for this piece shape has found it equal to
     * libtorch's bit for bit; until then, and wherever it did not, by libtorch's calls as {@link CnnNet#forward}
     * makes them.
     */
    private static void firstBlock(CnnNet net, Tensor x, PooledConvGeometry g1, PooledConvKernels kernels, float[] h,
                                   float[] pooled1, float[] winner1) {
        int n = g1.samples(), side = g1.inHeight(), c1 = g1.outChannels();
        int inputs = n * g1.inputPerSample(), outputs = n * g1.pooledPerSample();
        String shape = shape(n, g1.inChannels(), side);
        Boolean javaMatches = javaConv1Allowed ? JAVA_CONV1.get(shape) : Boolean.FALSE;
        if (Boolean.TRUE.equals(javaMatches)) {
            javaFirstBlock(net, x, g1, kernels, h, pooled1, winner1);
            return;
        }
        Tensor in = net.normalized(x);
        channelsLast(in, h);
        float[] conv1 = scratch(1, 4L * outputs);
        channelsLast(net.conv("conv1", in).contiguous(torch.MemoryFormat.ChannelsLast), conv1);
        kernels.poolRelu(conv1, n, side, side, c1, pooled1, winner1);
        if (javaMatches == null) { // the first piece of this shape: check the Java block against what libtorch just gave
            float[] hJava = scratch(9, inputs), pooledJava = scratch(10, outputs), winnerJava = scratch(11, outputs);
            javaFirstBlock(net, x, g1, kernels, hJava, pooledJava, winnerJava);
            boolean same = Arrays.equals(h, 0, inputs, hJava, 0, inputs)
                    && Arrays.equals(pooled1, 0, outputs, pooledJava, 0, outputs)
                    && Arrays.equals(winner1, 0, outputs, winnerJava, 0, outputs);
            if (JAVA_CONV1.putIfAbsent(shape, same) == null && !same) {
                LOG.info("per-sample cnn route: the Java first convolution does not round as this libtorch does for pieces of {};"
                        + " libtorch's stays in use (slower)", shape);
            }
        }
    }

    /** The first block in Java: the normalisation, then {@link PooledConvKernels#convPoolRelu}. */
    private static void javaFirstBlock(CnnNet net, Tensor x, PooledConvGeometry g1, PooledConvKernels kernels, float[] h,
                                       float[] pooled1, float[] winner1) {
        normalized(x, h);
        Map<String, Tensor> params = net.parameters();
        kernels.convPoolRelu(g1, h, PerSampleGradients.floats(params.get("conv1.weight")), PerSampleGradients.floats(params.get("conv1.bias")),
                pooled1, winner1);
    }

    /** Per thread: fc1's weight with its columns channels-last, as the last piece reordered it. */
    private static final ThreadLocal<Fc1ChannelsLast> FC1_CHANNELS_LAST = ThreadLocal.withInitial(Fc1ChannelsLast::new);

    /**
     * fc1's weight reordered for the head, kept for the next piece: a pass's pieces all see the same weight, and
     * comparing it with the copy kept is a sequential read where the reorder's scattered writes took about 2.5% of
     * the route's profile samples. Compared by content, not by tensor identity: methods update parameters in place.
     */
    private static final class Fc1ChannelsLast {
        float[] original = new float[0], reordered = new float[0];
        int hidden, channels, positions;

        float[] of(float[] weight, int hidden, int channels, int positions) {
            int size = hidden * channels * positions;
            boolean same = hidden == this.hidden && channels == this.channels && positions == this.positions
                    && Arrays.equals(weight, 0, size, original, 0, size);
            if (!same) {
                if (original.length < size) {
                    original = new float[size];
                    reordered = new float[size];
                }
                System.arraycopy(weight, 0, original, 0, size);
                swapColumnOrder(weight, reordered, hidden, channels, positions);
                this.hidden = hidden;
                this.channels = channels;
                this.positions = positions;
            }
            return reordered;
        }
    }

    /**
     * {@code to}[row][b][a] = {@code from}[row][a][b] for each of {@code rows} rows of a·b columns: fc1's columns between
     * the flatten's channel-major order [C][P] and the channels-last features' [P][C].
     */
    private static void swapColumnOrder(float[] from, float[] to, int rows, int a, int b) {
        int columns = a * b;
        for (int row = 0; row < rows; row++) {
            for (int i = 0; i < a; i++) {
                for (int k = 0; k < b; k++) {
                    to[row * columns + k * a + i] = from[row * columns + i * b + k];
                }
            }
        }
    }

    /** (x − mean) / std channels-last into {@code into}, as {@link CnnNet#normalized} computes it (two float roundings). */
    private static void normalized(Tensor x, float[] into) {
        channelsLast(x, into);
        for (int i = 0, end = Math.toIntExact(x.numel()); i < end; i++) {
            into[i] = (into[i] - CnnNet.MEAN) / CnnNet.STD;
        }
    }

    /** t's elements in channels-last order ([N][H][W][C]) into {@code into}. */
    private static void channelsLast(Tensor t, float[] into) {
        Tensor c = t.permute(0, 2, 3, 1).contiguous(); // a view, no copy, when t is channels-last already
        c.data_ptr_float().get(into, 0, Math.toIntExact(c.numel()));
    }

    /** The first {@code count} values of a scratch array as a tensor of that shape. */
    private static Tensor tensor(float[] values, int count, long... shape) {
        Tensor t = torch.empty(shape);
        t.data_ptr_float().put(values, 0, count);
        return t;
    }

    /** A channels-last tensor [N, C, H, W] holding {@code values} ([N][H][W][C]). */
    private static Tensor tensorChannelsLast(float[] values, int n, int c, int h, int w) {
        Tensor t = torch.empty(n, h, w, c);
        t.data_ptr_float().put(values, 0, n * h * w * c);
        return t.permute(0, 3, 1, 2);
    }

}
