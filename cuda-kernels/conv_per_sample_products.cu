/* Per-sample gradients of a convolution read from its input directly (no unfolded copy), squared (or absolute)
 * and summed over samples. Channels-last operands: a = [samples][in_h][in_w][cin], g = [samples][out_h][out_w][cout];
 * acc = [cout][cin][k][k] (the weight's layout). Reference: ScalarKernels.doAccumulateConvPerSampleProducts.
 *
 * One thread per weight element and block of samples: the thread forms that element of each sample's gradient
 * over the output positions (consecutive threads take consecutive output channels, so their reads of g coalesce
 * and their read of a is one broadcast), squares it in a register and adds the block's sum with one atomicAdd.
 * Simple rather than fast: the zoo's GPU path forms convolutions' products with per_sample_products.cu on
 * libtorch's unfolded input; this kernel is the CUDA member of the three back ends for the direct form. */
#include <algorithm>

#include "lethe_internal.h"

namespace {

constexpr int kThreads = 256;

__global__ void conv_per_sample_products_kernel(float *__restrict__ acc, const float *__restrict__ g,
                                                const float *__restrict__ a, int samples, int cin, int in_h, int in_w,
                                                int cout, int out_h, int out_w, int k, int stride, int padding,
                                                int samples_per_block, bool absolute) {
    const long long weights = static_cast<long long>(cout) * cin * k * k;
    const long long e = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (e >= weights) return;
    /* e runs over [c][ky][kx][o], o fastest */
    const int o = static_cast<int>(e % cout);
    long long rest = e / cout;
    const int kx = static_cast<int>(rest % k);
    rest /= k;
    const int ky = static_cast<int>(rest % k);
    const int c = static_cast<int>(rest / k);
    const int n_begin = blockIdx.y * samples_per_block;
    const int n_end = min(samples, n_begin + samples_per_block);
    float total = 0.f;
    for (int n = n_begin; n < n_end; n++) {
        float w = 0.f;
        for (int y = 0; y < out_h; y++) {
            const int iy = y * stride - padding + ky;
            if (iy < 0 || iy >= in_h) continue;
            for (int x = 0; x < out_w; x++) {
                const int ix = x * stride - padding + kx;
                if (ix < 0 || ix >= in_w) continue;
                const float gv = g[((static_cast<long long>(n) * out_h + y) * out_w + x) * cout + o];
                const float av = a[((static_cast<long long>(n) * in_h + iy) * in_w + ix) * cin + c];
                w = __fadd_rn(w, __fmul_rn(gv, av));
            }
        }
        total = __fadd_rn(total, absolute ? fabsf(w) : __fmul_rn(w, w));
    }
    if (n_begin < n_end) atomicAdd(acc + ((static_cast<long long>(o) * cin + c) * k + ky) * k + kx, total);
}

}  // namespace

extern "C" int lethe_conv_per_sample_products(long long ctx_handle, long long acc, long long g, long long a, int samples,
                                              int cin, int in_h, int in_w, int cout, int out_h, int out_w, int kernel,
                                              int stride, int padding, int absolute) {
    lethe::Ctx *ctx = lethe::ctx_of(ctx_handle);
    if (!ctx || samples < 0 || cin < 0 || in_h < 0 || in_w < 0 || cout < 0 || out_h < 0 || out_w < 0 || kernel < 1 ||
        stride < 1 || padding < 0)
        return LETHE_E_ARGUMENT;
    const long long weights = static_cast<long long>(cout) * cin * kernel * kernel;
    /* Nothing to add (every W_n is empty or zero); empty operands may come as null addresses. */
    if (samples == 0 || weights == 0 || out_h == 0 || out_w == 0) return LETHE_OK;
    if (!acc || !g || !a) return LETHE_E_ARGUMENT;
    const long long blocks_x = (weights + kThreads - 1) / kThreads;
    if (blocks_x > 0x7fffffffLL) return LETHE_E_ARGUMENT;
    /* Split the samples so that small layers (few weights) still fill the device: about 4 blocks per SM. */
    const long long wanted = std::max(1LL, static_cast<long long>(ctx->sm_count) * 4 / blocks_x);
    const int slices = static_cast<int>(std::min<long long>(std::min<long long>(samples, wanted), 65535));
    const int per_block = (samples + slices - 1) / slices;
    const int grid_y = (samples + per_block - 1) / per_block;
    dim3 grid(static_cast<unsigned>(blocks_x), grid_y);
    conv_per_sample_products_kernel<<<grid, kThreads, 0, ctx->stream>>>(
        reinterpret_cast<float *>(acc), reinterpret_cast<const float *>(g), reinterpret_cast<const float *>(a), samples,
        cin, in_h, in_w, cout, out_h, out_w, kernel, stride, padding, per_block, absolute != 0);
    return LETHE_LAUNCH_STATUS();
}
