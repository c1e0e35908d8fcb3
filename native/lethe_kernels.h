/*
 * Lethe CUDA kernels: the C ABI that the Java side binds through JavaCPP.
 *
 * Conventions
 *  - Every function returns a status: 0 on success, otherwise a CUDA error code or a LETHE_E_* code;
 *    lethe_status_string() turns it into text.
 *  - Handles and device addresses travel as 64-bit integers so that Java can hold them as longs.
 *  - A "tensor list" is a device-resident table of (pointer, size) pairs built once by
 *    lethe_list_create(). Every kernel takes whole lists and covers all of their tensors in ONE launch
 *    (multi-tensor apply): blocks walk fixed-size tiles and find their tensor by binary search.
 *  - Kernels are asynchronous on the context's stream. Results that the host needs (counts, per-tensor
 *    reductions, histograms) are written to device memory owned by the context and fetched with the
 *    lethe_read_* functions, which synchronise.
 *  - Arithmetic is plain IEEE fp32 (built with -fmad=false) so that results match the Java reference
 *    bit for bit wherever no reduction order or transcendental function is involved.
 */
#ifndef LETHE_KERNELS_H
#define LETHE_KERNELS_H

#if defined(__GNUC__)
#define LETHE_API __attribute__((visibility("default")))
#else
#define LETHE_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define LETHE_OK 0
#define LETHE_E_ARGUMENT 10001 /* a null handle, a negative size, mismatched lists */
#define LETHE_E_NO_DEVICE 10002
#define LETHE_E_ALLOC 10003
#define LETHE_E_CHECK 10004 /* a helper check found a wrong result (lethe_check_helpers) */

/* ---- runtime ------------------------------------------------------------------------------------ */

/* Number of usable CUDA devices; 0 (never an error) when there is no driver or no device. */
LETHE_API int lethe_cuda_device_count(void);
/* Status of the device probe behind lethe_cuda_device_count (0 when at least one device answered). */
LETHE_API int lethe_cuda_probe_status(void);
LETHE_API const char *lethe_status_string(int status);
/* CUDA runtime version this library was built with (for example 13000). */
LETHE_API int lethe_cuda_runtime_version(void);

LETHE_API int lethe_ctx_create(int device, long long *ctx_out);
LETHE_API int lethe_ctx_destroy(long long ctx);
/* Device name and compute capability, written as "NAME (sm_XY)" into buf (NUL-terminated). */
LETHE_API int lethe_ctx_describe(long long ctx, char *buf, int buf_len);
/* Run subsequent work on this cudaStream_t (0 = the context's own stream). */
LETHE_API int lethe_ctx_set_stream(long long ctx, long long stream);
/* Run subsequent work on exactly this cudaStream_t, 0 meaning the legacy default stream (libtorch's default
 * stream), not the context's own: how the kernels join libtorch's current stream. */
LETHE_API int lethe_ctx_use_external_stream(long long ctx, long long stream);
LETHE_API int lethe_ctx_synchronize(long long ctx);

LETHE_API int lethe_malloc(long long ctx, long long bytes, long long *device_ptr_out);
LETHE_API int lethe_free(long long ctx, long long device_ptr);
LETHE_API int lethe_memcpy_h2d(long long ctx, long long dst, const float *src, long long count);
LETHE_API int lethe_memcpy_d2h(long long ctx, float *dst, long long src, long long count);
LETHE_API int lethe_memcpy_d2d(long long ctx, long long dst, long long src, long long bytes);
LETHE_API int lethe_memset_zero(long long ctx, long long dst, long long bytes);

/* Device-side timing between two marks on the context's stream. */
LETHE_API int lethe_timer_start(long long ctx);
LETHE_API int lethe_timer_stop(long long ctx, float *elapsed_ms_out);

/* Peak memory bandwidth of the context's device in bytes per second, from the memory clock and bus width
 * the driver reports (2 transfers per clock); 0 when the driver reports neither. */
LETHE_API int lethe_ctx_peak_bandwidth(long long ctx, double *bytes_per_second_out);
/* Device time of one launch of an empty kernel on the context's stream, averaged over `launches` back-to-back
 * launches timed with events: the floor that a kernel on a list of small tensors is measured against. */
LETHE_API int lethe_empty_launch_ms(long long ctx, int launches, float *ms_out);

/* NVTX ranges (Nsight Systems shows Lethe's phases by name); no-ops unless a profiler injects NVTX. */
LETHE_API int lethe_nvtx_push(const char *name);
LETHE_API int lethe_nvtx_pop(void);

/* ---- tensor lists ------------------------------------------------------------------------------- */

LETHE_API int lethe_list_create(long long ctx, const long long *device_ptrs, const long long *sizes, int count,
                      long long *list_out);
LETHE_API int lethe_list_destroy(long long list);

/* ---- element-wise kernels (cuda-kernels/elementwise.cu) --------------------------------------- */

LETHE_API int lethe_fill(long long ctx, long long x, float value);
LETHE_API int lethe_scale(long long ctx, long long x, float a);
/* y += a * x */
LETHE_API int lethe_scale_add(long long ctx, long long y, long long x, float a);
/* dst = src / divisor, correctly rounded (the host's fp32 division, not a reciprocal multiply) */
LETHE_API int lethe_divide(long long ctx, long long dst, long long src, float divisor);
/* dst = src, element by element (the same traffic as a copy; the bandwidth baseline on lists) */
LETHE_API int lethe_copy(long long ctx, long long dst, long long src);

/* ---- optimiser step (cuda-kernels/sgd_step.cu) ------------------------------------------------- */

/* One SGD step with PyTorch's semantics (dampening 0, no Nesterov):
 *   d = g + weight_decay * theta;  d *= mask (when mask != 0);  v = momentum * v + d;  theta -= lr * v
 * mask = 0 means no mask. Used by training, fine-tuning baselines and DeepClean's masked fine-tuning. */
LETHE_API int lethe_sgd_step(long long ctx, long long theta, long long velocity, long long grad, long long mask,
                             float lr, float momentum, float weight_decay);

/* ---- importance accumulation (cuda-kernels/accumulate.cu) ------------------------------------- */

/* acc += scale * (g * g). Both accumulate kernels also add the number of NaN/Inf elements of g to the context's
 * gradient counter, read and zeroed by lethe_take_gradient_non_finite (the only read-back a pass needs). */
LETHE_API int lethe_accumulate_square(long long ctx, long long acc, long long g, float scale);
/* acc += scale * |g| */
LETHE_API int lethe_accumulate_abs(long long ctx, long long acc, long long g, float scale);

/* Per-sample gradients of a convolution (cuda-kernels/per_sample_products.cu), fused: for each sample n,
 * W_n = G_n * U_n^T with g = [samples][rows][positions] and u = [samples][cols][positions] (device addresses of
 * contiguous fp32 arrays), then acc[rows][cols] += sum_n W_n*W_n (or |W_n| when absolute != 0). W_n stays in
 * registers. */
LETHE_API int lethe_per_sample_products(long long ctx, long long acc, long long g, long long u, int samples, int rows,
                                        int cols, int positions, int absolute);

/* The same sums for a convolution read from its input directly (cuda-kernels/conv_per_sample_products.cu):
 * channels-last a = [samples][in_h][in_w][cin] and g = [samples][out_h][out_w][cout]; for each sample n,
 * W_n[o][c][ky][kx] = sum over output positions (y, x) of g[n][y][x][o] * a[n][y*stride-padding+ky][x*stride-padding+kx][c]
 * (zero outside the input), then acc[cout][cin][k][k] += sum_n W_n*W_n (or |W_n| when absolute != 0). */
LETHE_API int lethe_conv_per_sample_products(long long ctx, long long acc, long long g, long long a, int samples, int cin,
                                             int in_h, int in_w, int cout, int out_h, int out_w, int kernel, int stride,
                                             int padding, int absolute);

/* ---- updates ------------------------------------------------------------------------------------ */

/* SSD (cuda-kernels/ssd_dampen.cu): where iF > alpha*iD: theta *= min(lambda*iD/iF, 1).
 * The number of selected elements is added to the context's counter (see lethe_read_counter). */
LETHE_API int lethe_ssd_dampen(long long ctx, long long theta, long long importance_full,
                     long long importance_forget, float alpha, float lambda);

/* DeepClean reset (cuda-kernels/ratio_reset.cu): r = iF / (iR + eps); where r > gamma: theta = 0,
 * mask = 1, else mask = 0. Count goes to the context's counter. */
LETHE_API int lethe_ratio_reset(long long ctx, long long theta, long long mask, long long importance_forget,
                      long long importance_retain, float eps, float gamma);

/* Radix-select pass (cuda-kernels/ratio_histogram.cu): histogram of bits [shift, shift+bits) of the
 * order-preserving key of r = iF / (iR + eps), over the elements whose key matches `prefix` on the
 * bits selected by `prefix_mask`. bits <= 11. The host reads it with lethe_read_histogram. */
LETHE_API int lethe_ratio_histogram(long long ctx, long long importance_forget, long long importance_retain,
                          float eps, int shift, int bits, unsigned int prefix, unsigned int prefix_mask);

/* Mnemonic update (cuda-kernels/ratio_shift.cu): eta = fF / fR (double quotient rounded to float) where
 * d = ln fF - ln fR is finite; d NaN -> eta = 1; d +-inf -> the largest finite eta of that tensor (1 if none);
 * alpha_l = min(lambda1, lambda2 / max eta); w += sign * alpha_l * eta. Per-tensor alpha_l is readable with
 * lethe_read_tensor_values. */
LETHE_API int lethe_ratio_shift(long long ctx, long long w, long long fisher_forget, long long fisher_retain,
                      float sign, float lambda1, float lambda2);

/* Per-tensor statistics (cuda-kernels/stats.cu): sum and max of the finite values, count of
 * non-finite values. Read with lethe_read_stats. */
LETHE_API int lethe_stats(long long ctx, long long x);

/* Checks of the shared device helpers (cuda-kernels/helper_checks.cu): block reductions, the max rule, the
 * 16-byte load path, the contiguous tile ranges. LETHE_E_CHECK with a message in msg when one is wrong. */
LETHE_API int lethe_check_helpers(long long ctx, char *msg, int msg_len);

/* ---- results ------------------------------------------------------------------------------------ */

/* Zero the context's counter (kernels that count add to it). */
LETHE_API int lethe_reset_counter(long long ctx);
LETHE_API int lethe_read_counter(long long ctx, long long *value_out);
/* The NaN/Inf gradient elements the accumulate kernels met since the last call; zeroes the count (synchronises). */
LETHE_API int lethe_take_gradient_non_finite(long long ctx, long long *value_out);
/* 2^bits bins of the last lethe_ratio_histogram. */
LETHE_API int lethe_read_histogram(long long ctx, long long *bins_out, int bins);
/* One float per tensor of the last lethe_ratio_shift (alpha_l). */
LETHE_API int lethe_read_tensor_values(long long ctx, float *values_out, int count);
/* Per tensor of the last lethe_stats: sums (double), max (float; -inf if no finite value),
 * non-finite counts. */
LETHE_API int lethe_read_stats(long long ctx, double *sums_out, float *max_out, long long *non_finite_out,
                     int count);

#ifdef __cplusplus
}
#endif
#endif /* LETHE_KERNELS_H */
