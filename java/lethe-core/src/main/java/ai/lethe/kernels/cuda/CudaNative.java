package ai.lethe.kernels.cuda;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of native/lethe_kernels.h. The build generates and compiles the JNI glue for this
 * class only when nvcc built liblethe_cuda.so; otherwise loading it fails and {@link CudaKernels#probe()}
 * reports why. Handles and device addresses are {@code long}s; every function returns a status code.
 */
@Platform(value = "linux-x86_64", include = "lethe_kernels.h", link = "lethe_cuda")
final class CudaNative {

    static {
        Loader.load();
    }

    private CudaNative() {
    }

    static native int lethe_cuda_device_count();

    static native int lethe_cuda_probe_status();

    static native String lethe_status_string(int status);

    static native int lethe_cuda_runtime_version();

    static native int lethe_ctx_create(int device, @Cast("long long*") long[] ctxOut);

    static native int lethe_ctx_destroy(long ctx);

    static native int lethe_ctx_describe(long ctx, @Cast("char*") byte[] buf, int bufLen);

    static native int lethe_ctx_set_stream(long ctx, long stream);

    static native int lethe_ctx_use_external_stream(long ctx, long stream);

    static native int lethe_ctx_synchronize(long ctx);

    static native int lethe_malloc(long ctx, long bytes, @Cast("long long*") long[] devicePtrOut);

    static native int lethe_free(long ctx, long devicePtr);

    @CriticalRegion
    static native int lethe_memcpy_h2d(long ctx, long dst, @Cast("const float*") float[] src, long count);

    @CriticalRegion
    static native int lethe_memcpy_d2h(long ctx, @Cast("float*") float[] dst, long src, long count);

    static native int lethe_memcpy_d2d(long ctx, long dst, long src, long bytes);

    static native int lethe_memset_zero(long ctx, long dst, long bytes);

    static native int lethe_timer_start(long ctx);

    static native int lethe_timer_stop(long ctx, float[] elapsedMsOut);

    static native int lethe_ctx_peak_bandwidth(long ctx, double[] bytesPerSecondOut);

    static native int lethe_empty_launch_ms(long ctx, int launches, float[] msOut);

    static native int lethe_check_helpers(long ctx, @Cast("char*") byte[] msg, int msgLen);

    static native int lethe_nvtx_push(String name);

    static native int lethe_nvtx_pop();

    static native int lethe_list_create(long ctx, @Cast("const long long*") long[] devicePtrs,
                                        @Cast("const long long*") long[] sizes, int count,
                                        @Cast("long long*") long[] listOut);

    static native int lethe_list_destroy(long list);

    static native int lethe_fill(long ctx, long x, float value);

    static native int lethe_scale(long ctx, long x, float a);

    static native int lethe_scale_add(long ctx, long y, long x, float a);

    static native int lethe_divide(long ctx, long dst, long src, float divisor);

    static native int lethe_copy(long ctx, long dst, long src);

    static native int lethe_sgd_step(long ctx, long theta, long velocity, long grad, long mask, float lr, float momentum,
                                     float weightDecay);

    static native int lethe_accumulate_square(long ctx, long acc, long g, float scale);

    static native int lethe_accumulate_abs(long ctx, long acc, long g, float scale);

    static native int lethe_per_sample_products(long ctx, long acc, long g, long u, int samples, int rows, int cols,
                                                int positions, int absolute);

    static native int lethe_conv_per_sample_products(long ctx, long acc, long g, long a, int samples, int cin, int inH,
                                                     int inW, int cout, int outH, int outW, int kernel, int stride,
                                                     int padding, int absolute);

    static native int lethe_ssd_dampen(long ctx, long theta, long importanceFull, long importanceForget, float alpha,
                                       float lambda);

    static native int lethe_ratio_reset(long ctx, long theta, long mask, long importanceForget,
                                        long importanceRetain, float eps, float gamma);

    static native int lethe_ratio_histogram(long ctx, long importanceForget, long importanceRetain, float eps,
                                            int shift, int bits, @Cast("unsigned int") int prefix,
                                            @Cast("unsigned int") int prefixMask);

    static native int lethe_ratio_shift(long ctx, long w, long fisherForget, long fisherRetain, float sign,
                                        float lambda1, float lambda2);

    static native int lethe_stats(long ctx, long x);

    static native int lethe_reset_counter(long ctx);

    static native int lethe_read_counter(long ctx, @Cast("long long*") long[] valueOut);

    static native int lethe_take_gradient_non_finite(long ctx, @Cast("long long*") long[] valueOut);

    static native int lethe_read_histogram(long ctx, @Cast("long long*") long[] binsOut, int bins);

    static native int lethe_read_tensor_values(long ctx, float[] valuesOut, int count);

    static native int lethe_read_stats(long ctx, double[] sumsOut, float[] maxOut,
                                       @Cast("long long*") long[] nonFiniteOut, int count);
}
