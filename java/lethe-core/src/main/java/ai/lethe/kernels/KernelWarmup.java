package ai.lethe.kernels;

/**
 * Compiles the Vector API kernels ahead of their first real use, on a background thread: until C2 has compiled them,
 * Vector API loops run interpreted or as C1 code that allocates per vector. Off in a run that starts working at once
 * unless asked for ({@code -Dlethe.warmup=true}, read by {@link Backends#vector}); on in the HTTP service, which starts
 * it while it waits for requests ({@link #startUnlessDeclined}). It was written when it ran only the element-wise
 * kernels (the fixture CNN's first 40 batches spent 350 ms in them, 0.1 ms once compiled), and now that it runs the
 * pooled-convolution and head kernels too it takes 1.8 s and 3.5 s of CPU on its own, which on a 2-core machine the
 * work waits for: with it, a cold batch-estimator pass over 2,560 Fashion-MNIST images took 2.4-3.0 s instead of
 * 0.8-0.9 s, over all 60,000 13-16 s instead of 11-13 s, the per-sample estimator's 8.8-9.7 s instead of 7.3-8.6 s.
 */
public final class KernelWarmup {

    private static final Object LOCK = new Object();
    private static Thread thread;
    private static volatile RuntimeException failure;

    private KernelWarmup() {
    }

    /** Whether this JVM asked for the warm-up ({@code -Dlethe.warmup=true}). */
    static boolean requested() {
        return "true".equals(System.getProperty("lethe.warmup"));
    }

    /**
     * For a process that waits for its first request after starting (the HTTP service): starts the warm-up unless this
     * JVM declined it ({@code -Dlethe.warmup=false}), as its idle time pays for it.
     */
    public static void startUnlessDeclined() {
        if (!"false".equals(System.getProperty("lethe.warmup"))) {
            start();
        }
    }

    /**
     * For a benchmark that wants compiled kernels from its first timed run (as it had while every run started the
     * warm-up): runs the warm-up to its end, or returns at once in a JVM without the Vector API.
     */
    public static void completeBeforeBenchmark() {
        if (!VectorKernels.apiAvailable()) {
            return;
        }
        start();
        try {
            await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts warming up, once per JVM; returns immediately. */
    public static void start() {
        synchronized (LOCK) {
            if (thread != null) {
                return;
            }
            thread = new Thread(KernelWarmup::run, "lethe-kernel-warmup");
            thread.setDaemon(true);
            thread.setPriority(Thread.MIN_PRIORITY);
            thread.start();
        }
    }

    /** Whether this JVM has started the warm-up. */
    public static boolean started() {
        synchronized (LOCK) {
            return thread != null;
        }
    }

    /** Waits for a running warm-up to end (tests and benchmarks that want compiled code from the start). */
    public static void await() throws InterruptedException {
        Thread t;
        synchronized (LOCK) {
            t = thread;
        }
        if (t != null) {
            t.join();
        }
    }

    /** What stopped the warm-up early, or null (a wrong size in its own calls would otherwise go unnoticed). */
    static RuntimeException failure() {
        return failure;
    }

    /** Values in [-0.5, 0.5) that vary along the array. */
    private static float[] pattern(int size) {
        float[] v = new float[size];
        for (int i = 0; i < size; i++) {
            v[i] = ((i * 7919) % 101) / 101f - 0.5f;
        }
        return v;
    }

    private static void run() {
        // One thread and one chunk: the same loop bodies as real calls, without touching the shared pool.
        try (VectorKernels k = new VectorKernels(1)) {
            int n = 4099; // not a multiple of the vector width, so the tails are exercised too
            float[] a = new float[n];
            float[] b = new float[n];
            float[] c = new float[n];
            float[] d = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = (i % 17) * 1e-3f;
                b[i] = (i % 13) * 1e-3f + 1e-6f;
                c[i] = (i % 7) - 3f;
            }
            HostTensors ta = HostTensors.wrap(a);
            HostTensors tb = HostTensors.wrap(b);
            HostTensors tc = HostTensors.wrap(c);
            HostTensors td = HostTensors.wrap(d);
            // the direct per-sample products: 4-channel tiles of two vectors and of one, single channels, the
            // partial tile past the last full vector and the scalar loop at the array's end (49 output channels at
            // 8 or 16 lanes), a padded 3x3 window
            ConvGeometry conv = new ConvGeometry(2, 5, 6, 6, 49, 6, 6, 3, 1, 1);
            HostTensors convAcc = HostTensors.wrap(new float[(int) conv.weightSize()]);
            HostTensors convG = HostTensors.wrap(new float[(int) conv.outputSize()]);
            HostTensors convA = HostTensors.wrap(new float[(int) conv.inputSize()]);
            // the cnn's pooled-convolution backward: the wide scheme with an input gradient (16 input channels) and
            // the narrow one (1), with values that pass the ReLU in some windows and not in others; and the fused
            // forward the cnn's route runs for its first block (one input channel)
            PooledConvKernels pooledKernels = k.pooledConv(); // one thread, as k
            PooledConvGeometry[] pooledGeometries = {new PooledConvGeometry(2, 16, 6, 6, 32, 3, 1), new PooledConvGeometry(2, 1, 8, 8, 16, 3, 1)};
            float[][][] pooledOperands = new float[2][][];
            for (int j = 0; j < 2; j++) {
                PooledConvGeometry g = pooledGeometries[j];
                int out = g.samples() * g.pooledPerSample(), in = g.samples() * g.inputPerSample();
                pooledOperands[j] = new float[][] {pattern(4 * out), new float[out], new float[out], pattern(in), pattern(g.weightSize()),
                    pattern(out), new float[g.weightSize()], new float[g.outChannels()], j == 0 ? new float[in] : null};
            }
            float[][] headOperands = {pattern(210), pattern(630), pattern(9), pattern(27), pattern(3), new float[630], new float[9],
                new float[27], new float[3], new float[210]}; // input, w1, b1, w2, b2, their sums, input gradient
            for (int i = 0; i < 400; i++) {
                k.accumulateConvPerSampleProducts(convAcc, convG, convA, conv, i % 2 == 0);
                for (int j = 0; j < 2; j++) {
                    PooledConvGeometry g = pooledGeometries[j];
                    float[][] o = pooledOperands[j]; // conv, pooled, winner, input, weight, pooled gradient, sums, bias sums, input gradient
                    pooledKernels.poolRelu(o[0], g.samples(), g.outHeight(), g.outWidth(), g.outChannels(), o[1], o[2]);
                    pooledKernels.backward(g, o[3], o[4], o[5], o[1], o[2], i % 2 == 0, o[6], o[7], o[8]);
                }
                PooledConvGeometry first = pooledGeometries[1];
                float[][] f = pooledOperands[1];
                pooledKernels.convPoolRelu(first, f[3], f[4], f[7], f[1], f[2]);
                // the cnn's head: blocks of two samples by four and the tails past them (3 samples, 70 wide, 9 hidden)
                pooledKernels.head().backward(3, 70, 9, 3, headOperands[0], headOperands[1], headOperands[2], headOperands[3],
                        headOperands[4], i % 2 == 0 ? null : new int[] {0, 1, 2}, i % 4 < 2, headOperands[5], headOperands[6],
                        headOperands[7], headOperands[8], headOperands[9]);
                k.accumulateSquare(td, tc, 1e-9f);
                k.accumulateAbs(td, tc, 1e-9f);
                k.stats(tc);
                k.ssdDampen(tc, ta, tb, 2f, 1f);
                k.scaleAdd(td, tc, 1e-9f);
                if (i % 8 == 0) {
                    k.ratioThresholdForFraction(tb, ta, 1e-8f, 0.01);
                    k.ratioShift(td, ta, tb, 1f, 1e-9f, 1e-9f);
                    k.ratioReset(td, tc, tb, ta, 1e-8f, Float.MAX_VALUE);
                }
            }
        } catch (RuntimeException e) {
            // Warm-up is an optimisation only; a failure here must not affect the real work (a test reads it).
            failure = e;
        }
    }
}
