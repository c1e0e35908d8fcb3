package ai.lethe.kernels.cuda;

import java.nio.charset.StandardCharsets;

import ai.lethe.kernels.CheckedKernels;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.Shapes;
import ai.lethe.kernels.TensorList;
import ai.lethe.kernels.TensorStats;

/**
 * The CUDA back end: the hand-written multi-tensor kernels of cuda-kernels/, one launch per call for a
 * whole tensor list, on one device and one stream. Calls that return results (counts, histograms,
 * statistics) synchronise; the others are queued on the stream and ordered by it.
 */
public final class CudaKernels extends CheckedKernels {

    /** Whether the CUDA back end can run here, and if not, why. */
    public record Availability(boolean available, int devices, String reason) {
    }

    private static final int CUDA_ERROR_INSUFFICIENT_DRIVER = 35;

    private static volatile Availability availability;

    private final long ctx;
    private final int deviceIndex;
    private final String description;
    private boolean closed;
    /** Lists created and not yet closed (owned device memory to free when the back end closes). */
    private final java.util.Set<DeviceTensors> open = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Opens device {@code device}; fails with a clear message when CUDA is unavailable. */
    public CudaKernels(int device) {
        Availability a = probe();
        if (!a.available()) {
            throw new IllegalStateException("CUDA back end unavailable: " + a.reason());
        }
        if (device < 0 || device >= a.devices()) {
            throw new ai.lethe.InvalidSettingException("CUDA device " + device + " does not exist (" + a.devices() + " found)");
        }
        long[] out = new long[1];
        check("lethe_ctx_create", CudaNative.lethe_ctx_create(device, out));
        ctx = out[0];
        deviceIndex = device;
        byte[] buf = new byte[256];
        check("lethe_ctx_describe", CudaNative.lethe_ctx_describe(ctx, buf, buf.length));
        int len = 0;
        while (len < buf.length && buf[len] != 0) {
            len++;
        }
        description = "cuda: " + new String(buf, 0, len, StandardCharsets.UTF_8);
    }

    /**
     * Loads the native library and counts devices, once. Never throws: a missing library (built without
     * nvcc), a missing driver or no device all give {@code available = false} with the reason.
     */
    public static Availability probe() {
        Availability a = availability;
        if (a == null) {
            synchronized (CudaKernels.class) {
                a = availability;
                if (a == null) {
                    a = availability = doProbe();
                }
            }
        }
        return a;
    }

    private static Availability doProbe() {
        if (Boolean.getBoolean("lethe.cuda.disable")) {
            return new Availability(false, 0, "disabled by -Dlethe.cuda.disable=true");
        }
        try {
            int n = CudaNative.lethe_cuda_device_count();
            if (n > 0) {
                return new Availability(true, n, n + " device(s)");
            }
            int status = CudaNative.lethe_cuda_probe_status();
            String detail = status == CUDA_ERROR_INSUFFICIENT_DRIVER
                    ? "no NVIDIA driver found, or one older than the CUDA " + runtimeVersionString() + " runtime needs"
                    : CudaNative.lethe_status_string(status);
            return new Availability(false, 0, "no usable CUDA device (" + detail + ")");
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            String why = String.valueOf(e.getMessage());
            if (why.contains("jniCudaNative") || why.contains("lethe_cuda")) {
                return new Availability(false, 0, "native library not built (the build skipped the CUDA back end: no nvcc, or LETHE_CUDA=off)");
            }
            return new Availability(false, 0, "native library failed to load: " + why);
        }
    }

    /** Runtime version the native library was built with, for example 13000; 0 when it is not loaded. */
    public static int runtimeVersion() {
        return libraryLoaded() ? CudaNative.lethe_cuda_runtime_version() : 0;
    }

    private static String runtimeVersionString() {
        int v = CudaNative.lethe_cuda_runtime_version();
        return (v / 1000) + "." + (v % 1000) / 10;
    }

    /** True when the native library (and so the device code) is loaded, device or not. */
    public static boolean libraryLoaded() {
        Availability a = probe();
        return a.available() || a.reason().startsWith("no usable CUDA device");
    }

    static void check(String call, int status) {
        if (status != 0) {
            throw new CudaException(call, status, CudaNative.lethe_status_string(status));
        }
    }

    @Override
    protected void requireOwned(String kernel, TensorList list) {
        device(kernel, list);
    }

    private DeviceTensors device(TensorList list) {
        return device("cuda", list);
    }

    private DeviceTensors device(String kernel, TensorList list) {
        if (list instanceof DeviceTensors d && d.owner() == this) {
            return d;
        }
        throw new IllegalArgumentException(kernel + ": the cuda back end needs tensors it allocated or wrapped, got "
                + list.getClass().getSimpleName());
    }

    private long h(TensorList list) {
        return device(list).handle();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("CUDA back end is closed");
        }
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public boolean hostMemory() {
        return false;
    }

    /** The context's native handle (for benchmarks that time on the device). */
    long context() {
        return ctx;
    }

    // ---- memory ---------------------------------------------------------------------------------

    @Override
    public TensorList allocate(long... sizes) {
        checkOpen();
        long[] ptrs = new long[sizes.length];
        long[] out = new long[1];
        try {
            for (int i = 0; i < sizes.length; i++) {
                if (sizes[i] < 0) {
                    throw new IllegalArgumentException("negative tensor size " + sizes[i]);
                }
                check("lethe_malloc", CudaNative.lethe_malloc(ctx, sizes[i] * Float.BYTES, out));
                ptrs[i] = out[0];
                check("lethe_memset_zero", CudaNative.lethe_memset_zero(ctx, ptrs[i], sizes[i] * Float.BYTES));
            }
            return wrap(ptrs, sizes.clone(), true);
        } catch (RuntimeException e) {
            for (long p : ptrs) {
                if (p != 0) {
                    free(p);
                }
            }
            throw e;
        }
    }

    /** A list over device memory that someone else owns (for example libtorch CUDA tensors); closing it frees nothing. */
    public DeviceTensors wrapBorrowed(long[] devicePointers, long[] sizes) {
        checkOpen();
        if (devicePointers.length != sizes.length) {
            throw new IllegalArgumentException(devicePointers.length + " pointers for " + sizes.length + " sizes");
        }
        return wrap(devicePointers.clone(), sizes.clone(), false);
    }

    private DeviceTensors wrap(long[] ptrs, long[] sizes, boolean owns) {
        long[] out = new long[1];
        check("lethe_list_create", CudaNative.lethe_list_create(ctx, ptrs, sizes, ptrs.length, out));
        DeviceTensors list = new DeviceTensors(this, ptrs, sizes, owns, out[0]);
        open.add(list);
        return list;
    }

    void free(long ptr) {
        if (!closed) {
            CudaNative.lethe_free(ctx, ptr);
        }
    }

    /** A list closed by its user: nothing left for {@link #close} to free. */
    void closed(DeviceTensors list) {
        open.remove(list);
    }

    @Override
    public TensorList upload(float[]... host) {
        long[] sizes = new long[host.length];
        for (int i = 0; i < host.length; i++) {
            sizes[i] = host[i].length;
        }
        TensorList list = allocate(sizes);
        upload(host, list);
        return list;
    }

    @Override
    protected void doUpload(float[][] host, TensorList dst) {
        checkOpen();
        DeviceTensors d = device(dst);
        for (int i = 0; i < host.length; i++) {
            check("lethe_memcpy_h2d", CudaNative.lethe_memcpy_h2d(ctx, d.pointer(i), host[i], host[i].length));
        }
    }

    @Override
    protected void doDownload(TensorList src, float[][] host) {
        checkOpen();
        DeviceTensors s = device(src);
        for (int i = 0; i < host.length; i++) {
            check("lethe_memcpy_d2h", CudaNative.lethe_memcpy_d2h(ctx, host[i], s.pointer(i), host[i].length));
        }
    }

    /**
     * The device's peak memory bandwidth in GB/s from the memory clock and bus width the driver reports
     * (two transfers per clock), or NaN when it reports neither.
     */
    public double peakBandwidthGbps() {
        double[] out = new double[1];
        check("lethe_ctx_peak_bandwidth", CudaNative.lethe_ctx_peak_bandwidth(ctx, out));
        return out[0] > 0 ? out[0] / 1e9 : Double.NaN;
    }

    /** Device milliseconds of one launch of an empty kernel, averaged over {@code launches} back-to-back ones. */
    public double emptyLaunchMillis(int launches) {
        float[] ms = new float[1];
        check("lethe_empty_launch_ms", CudaNative.lethe_empty_launch_ms(ctx, launches, ms));
        return ms[0];
    }

    /**
     * Runs the device checks of the shared CUDA helpers (block reductions, the max rule, the 16-byte load path,
     * contiguous tile ranges); throws {@link CudaException} naming the helper that is wrong.
     */
    public void checkHelpers() {
        byte[] msg = new byte[256];
        int status = CudaNative.lethe_check_helpers(ctx, msg, msg.length);
        if (status != 0) {
            int len = 0;
            while (len < msg.length && msg[len] != 0) {
                len++;
            }
            String detail = len > 0 ? new String(msg, 0, len, StandardCharsets.UTF_8) : CudaNative.lethe_status_string(status);
            throw new CudaException("lethe_check_helpers", status, detail);
        }
    }

    /** cudaMemcpy device-to-device of every tensor: the bandwidth ceiling the kernels are measured against. */
    public void memcpy(TensorList src, TensorList dst) {
        requireArguments("memcpy", src, dst);
        DeviceTensors s = device(src);
        DeviceTensors d = device(dst);
        for (int i = 0; i < s.count(); i++) {
            check("lethe_memcpy_d2d", CudaNative.lethe_memcpy_d2d(ctx, d.pointer(i), s.pointer(i), s.size(i) * Float.BYTES));
        }
    }

    /** Waits for all queued work. */
    public void synchronize() {
        check("lethe_ctx_synchronize", CudaNative.lethe_ctx_synchronize(ctx));
    }

    /** Device time of {@code work}, measured with CUDA events around it on the stream. */
    public double deviceMillis(Runnable work) {
        check("lethe_timer_start", CudaNative.lethe_timer_start(ctx));
        work.run();
        float[] ms = new float[1];
        check("lethe_timer_stop", CudaNative.lethe_timer_stop(ctx, ms));
        return ms[0];
    }

    /** Phase spans as NVTX ranges, so Nsight Systems shows Lethe's phases by name. */
    public ai.lethe.profile.Profiler.RangeListener nvtxRanges() {
        return new ai.lethe.profile.Profiler.RangeListener() {
            @Override
            public void push(String name) {
                CudaNative.lethe_nvtx_push(name);
            }

            @Override
            public void pop() {
                CudaNative.lethe_nvtx_pop();
            }
        };
    }

    /**
     * Runs later work on exactly this cudaStream_t, 0 being the legacy default stream: how the kernels join
     * libtorch's current stream, so that they are ordered with the model's forward and backward without a sync.
     */
    public void useExternalStream(long stream) {
        check("lethe_ctx_use_external_stream", CudaNative.lethe_ctx_use_external_stream(ctx, stream));
    }

    /** The device this back end runs on. */
    public int deviceIndex() {
        return deviceIndex;
    }

    @Override
    public long takeGradientNonFinite() {
        long[] out = new long[1];
        check("lethe_take_gradient_non_finite", CudaNative.lethe_take_gradient_non_finite(ctx, out));
        return out[0];
    }

    /** Runs later work on this cudaStream_t (0 = the back end's own stream), for example libtorch's current stream. */
    public void useStream(long stream) {
        check("lethe_ctx_set_stream", CudaNative.lethe_ctx_set_stream(ctx, stream));
    }

    // ---- kernels --------------------------------------------------------------------------------

    @Override
    protected void doCopy(TensorList src, TensorList dst) {
        check("lethe_copy", CudaNative.lethe_copy(ctx, h(dst), h(src)));
    }

    @Override
    protected void doFill(TensorList x, float value) {
        check("lethe_fill", CudaNative.lethe_fill(ctx, h(x), value));
    }

    @Override
    protected void doScale(TensorList x, float a) {
        check("lethe_scale", CudaNative.lethe_scale(ctx, h(x), a));
    }

    @Override
    protected void doDivide(TensorList dst, TensorList src, float divisor) {
        check("lethe_divide", CudaNative.lethe_divide(ctx, h(dst), h(src), divisor));
    }

    @Override
    protected void doScaleAdd(TensorList y, TensorList x, float a) {
        check("lethe_scale_add", CudaNative.lethe_scale_add(ctx, h(y), h(x), a));
    }

    @Override
    protected void doSgdStep(TensorList theta, TensorList velocity, TensorList grad, TensorList mask, float lr,
                             float momentum, float weightDecay) {
        check("lethe_sgd_step", CudaNative.lethe_sgd_step(ctx, h(theta), h(velocity), h(grad), mask == null ? 0 : h(mask),
                lr, momentum, weightDecay));
    }

    @Override
    protected void doAccumulateSquare(TensorList acc, TensorList g, float scale) {
        check("lethe_accumulate_square", CudaNative.lethe_accumulate_square(ctx, h(acc), h(g), scale));
    }

    @Override
    protected void doAccumulateAbs(TensorList acc, TensorList g, float scale) {
        check("lethe_accumulate_abs", CudaNative.lethe_accumulate_abs(ctx, h(acc), h(g), scale));
    }

    @Override
    protected void doAccumulatePerSampleProducts(TensorList acc, TensorList g, TensorList u, int samples, int rows,
                                                 int cols, int positions, boolean absolute) {
        check("lethe_per_sample_products", CudaNative.lethe_per_sample_products(ctx, firstPointer(acc), firstPointer(g),
                firstPointer(u), samples, rows, cols, positions, absolute ? 1 : 0));
    }

    @Override
    protected void doAccumulateConvPerSampleProducts(TensorList acc, TensorList g, TensorList a, ai.lethe.kernels.ConvGeometry conv,
                                                     boolean absolute) {
        check("lethe_conv_per_sample_products", CudaNative.lethe_conv_per_sample_products(ctx, firstPointer(acc),
                firstPointer(g), firstPointer(a), conv.samples(), conv.inChannels(), conv.inHeight(), conv.inWidth(),
                conv.outChannels(), conv.outHeight(), conv.outWidth(), conv.kernel(), conv.stride(), conv.padding(),
                absolute ? 1 : 0));
    }

    /** Device address of a one-tensor list, refusing a closed one. */
    private long firstPointer(TensorList list) {
        DeviceTensors d = device(list);
        d.handle();
        return d.pointer(0);
    }

    @Override
    protected long doSsdDampen(TensorList theta, TensorList importanceFull, TensorList importanceForget, float alpha,
                               float lambda) {
        check("lethe_reset_counter", CudaNative.lethe_reset_counter(ctx));
        check("lethe_ssd_dampen", CudaNative.lethe_ssd_dampen(ctx, h(theta), h(importanceFull), h(importanceForget),
                alpha, lambda));
        return readCounter();
    }

    /** {@link #ssdDampen} queued on the stream without reading the count back (for device-side timing). */
    public void ssdDampenAsync(TensorList theta, TensorList importanceFull, TensorList importanceForget, float alpha,
                         float lambda) {
        requireArguments("ssdDampen", theta, importanceFull, importanceForget);
        check("lethe_ssd_dampen", CudaNative.lethe_ssd_dampen(ctx, h(theta), h(importanceFull), h(importanceForget),
                alpha, lambda));
    }

    @Override
    protected long doRatioReset(TensorList theta, TensorList mask, TensorList importanceForget,
                                TensorList importanceRetain, float epsilon, float gamma) {
        check("lethe_reset_counter", CudaNative.lethe_reset_counter(ctx));
        check("lethe_ratio_reset", CudaNative.lethe_ratio_reset(ctx, h(theta), h(mask), h(importanceForget),
                h(importanceRetain), epsilon, gamma));
        return readCounter();
    }

    /** {@link #ratioReset} queued on the stream without reading the count back (for device-side timing). */
    public void ratioResetAsync(TensorList theta, TensorList mask, TensorList importanceForget, TensorList importanceRetain,
                          float epsilon, float gamma) {
        requireArguments("ratioReset", theta, mask, importanceForget, importanceRetain);
        check("lethe_ratio_reset", CudaNative.lethe_ratio_reset(ctx, h(theta), h(mask), h(importanceForget),
                h(importanceRetain), epsilon, gamma));
    }

    private long readCounter() {
        long[] out = new long[1];
        check("lethe_read_counter", CudaNative.lethe_read_counter(ctx, out));
        return out[0];
    }

    @Override
    protected long[] doRatioHistogram(TensorList importanceForget, TensorList importanceRetain, float epsilon, int shift,
                                      int bits, int prefix, int prefixMask) {
        check("lethe_ratio_histogram", CudaNative.lethe_ratio_histogram(ctx, h(importanceForget), h(importanceRetain),
                epsilon, shift, bits, prefix, prefixMask));
        long[] bins = new long[1 << bits];
        check("lethe_read_histogram", CudaNative.lethe_read_histogram(ctx, bins, bins.length));
        return bins;
    }

    @Override
    protected float[] doRatioShift(TensorList w, TensorList fisherForget, TensorList fisherRetain, float sign,
                                   float lambda1, float lambda2) {
        check("lethe_ratio_shift", CudaNative.lethe_ratio_shift(ctx, h(w), h(fisherForget), h(fisherRetain), sign,
                lambda1, lambda2));
        float[] alphas = new float[w.count()];
        check("lethe_read_tensor_values", CudaNative.lethe_read_tensor_values(ctx, alphas, alphas.length));
        return alphas;
    }

    @Override
    protected TensorStats[] doStats(TensorList x) {
        int n = x.count();
        check("lethe_stats", CudaNative.lethe_stats(ctx, h(x)));
        double[] sums = new double[n];
        float[] max = new float[n];
        long[] bad = new long[n];
        check("lethe_read_stats", CudaNative.lethe_read_stats(ctx, sums, max, bad, n));
        TensorStats[] out = new TensorStats[n];
        for (int t = 0; t < n; t++) {
            out[t] = new TensorStats(x.size(t), sums[t], max[t], bad[t]);
        }
        return out;
    }

    @Override
    public void close() {
        if (!closed) {
            // Lists still open free their device memory now, while the context that allocated it exists:
            // afterwards nothing could (their handles would outlive the context).
            for (DeviceTensors list : open.toArray(new DeviceTensors[0])) {
                list.close();
            }
            CudaNative.lethe_ctx_destroy(ctx);
            closed = true;
        }
    }
}
