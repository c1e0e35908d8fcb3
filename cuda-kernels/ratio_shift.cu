/* Mnemonic-code one-shot update (ALGORITHMS.md section 2, reference: OneShotMU-with-MNCode):
 *   d = log fF - log fR, with NaN -> 0 and +-inf -> the largest finite d of the tensor (0 if none);
 *   eta = exp(d);  alpha_l = min(lambda1, lambda2 / max eta);  w <- w + sign * alpha_l * eta.
 * Three launches: a per-tensor reduction of d, a per-tensor alpha_l, and the update itself.
 * Java reference: ScalarKernels.ratioShift. */
#include <cfloat>

#include "multi_tensor.cuh"

namespace {

constexpr int kSawNaN = 1;
constexpr int kSawInf = 2;

__device__ __forceinline__ float log_ratio(float f_forget, float f_retain) {
    return __fsub_rn(logf(f_forget), logf(f_retain));
}

__global__ void init_shift(int *max_keys, int *flags, int count) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t < count) {
        max_keys[t] = lethe::float_to_ordered(-INFINITY);
        flags[t] = 0;
    }
}

__global__ void __launch_bounds__(lethe::kThreads)
shift_reduce(lethe::TileMap map, float *const *forget, float *const *retain, int *max_keys, int *flags) {
    __shared__ float warp_max[lethe::kThreads / 32];
    __shared__ int block_flags;
    for (long long tile = blockIdx.x; tile < map.tiles; tile += gridDim.x) {
        lethe::TileSpan span = lethe::tile_span(map, tile);
        const float *f = forget[span.tensor] + span.begin;
        const float *r = retain[span.tensor] + span.begin;
        if (threadIdx.x == 0) block_flags = 0;
        __syncthreads();
        float max = -INFINITY;
        int seen = 0;
        for (long long i = threadIdx.x; i < span.end - span.begin; i += blockDim.x) {
            float d = log_ratio(f[i], r[i]);
            if (isnan(d)) seen |= kSawNaN;
            else if (isinf(d)) seen |= kSawInf;
            else max = d > max ? d : max;
        }
        for (int offset = 16; offset > 0; offset >>= 1) max = fmaxf(max, __shfl_down_sync(0xffffffffu, max, offset));
        if (seen) atomicOr(&block_flags, seen);
        if ((threadIdx.x & 31) == 0) warp_max[threadIdx.x >> 5] = max;
        __syncthreads();
        if (threadIdx.x == 0) {
            float m = -INFINITY;
            for (int w = 0; w < lethe::kThreads / 32; ++w) m = fmaxf(m, warp_max[w]);
            atomicMax(&max_keys[span.tensor], lethe::float_to_ordered(m));
            if (block_flags) atomicOr(&flags[span.tensor], block_flags);
        }
        __syncthreads();
    }
}

/* alpha_l per tensor; also turns max_keys into the value that replaces +-inf (as a float key). */
__global__ void shift_alphas(int *max_keys, const int *flags, float *alphas, int count, float lambda1,
                             float lambda2) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= count) return;
    float max_finite = lethe::ordered_to_float(max_keys[t]);
    bool has_finite = max_finite != -INFINITY;
    float inf_fill = has_finite ? max_finite : 0.0f;
    float max_d = -INFINITY;
    if (has_finite) max_d = max_finite;
    if ((flags[t] & kSawNaN) && 0.0f > max_d) max_d = 0.0f;
    if ((flags[t] & kSawInf) && inf_fill > max_d) max_d = inf_fill;
    float limit = max_d == -INFINITY ? lambda1 : __fdiv_rn(lambda2, expf(max_d));
    alphas[t] = lambda1 < limit ? lambda1 : limit;
    max_keys[t] = lethe::float_to_ordered(inf_fill);
}

__global__ void __launch_bounds__(lethe::kThreads)
shift_apply(lethe::TileMap map, float *const *w, float *const *forget, float *const *retain, const int *fill_keys,
            const float *alphas, float sign) {
    for (long long tile = blockIdx.x; tile < map.tiles; tile += gridDim.x) {
        lethe::TileSpan span = lethe::tile_span(map, tile);
        float *p = w[span.tensor] + span.begin;
        const float *f = forget[span.tensor] + span.begin;
        const float *r = retain[span.tensor] + span.begin;
        float alpha = alphas[span.tensor];
        float inf_fill = lethe::ordered_to_float(fill_keys[span.tensor]);
        for (long long i = threadIdx.x; i < span.end - span.begin; i += blockDim.x) {
            float d = log_ratio(f[i], r[i]);
            if (isnan(d)) d = 0.0f;
            else if (isinf(d)) d = inf_fill;
            float step = __fmul_rn(alpha, expf(d));
            p[i] = sign > 0.0f ? __fadd_rn(p[i], step) : __fsub_rn(p[i], step);
        }
    }
}

}  // namespace

extern "C" int lethe_ratio_shift(long long ctx_handle, long long w, long long fisher_forget, long long fisher_retain,
                                 float sign, float lambda1, float lambda2) {
    lethe::Ctx *ctx = lethe::ctx_of(ctx_handle);
    lethe::List *lw = lethe::list_of(w), *lf = lethe::list_of(fisher_forget), *lr = lethe::list_of(fisher_retain);
    if (!ctx || !lethe::same_shape(lw, lf) || !lethe::same_shape(lw, lr)) return LETHE_E_ARGUMENT;
    if (lw->count == 0) return LETHE_OK;
    cudaError_t err = lethe::ensure_per_tensor(ctx, lw->count);
    if (err != cudaSuccess) return err;
    int small_blocks = (lw->count + 255) / 256;
    init_shift<<<small_blocks, 256, 0, ctx->stream>>>(ctx->d_max_keys, ctx->d_flags, lw->count);
    if (lw->tiles > 0)
        shift_reduce<<<lethe::grid_for(ctx, lw->tiles), lethe::kThreads, 0, ctx->stream>>>(
            lethe::tile_map(lf), lf->d_ptrs, lr->d_ptrs, ctx->d_max_keys, ctx->d_flags);
    shift_alphas<<<small_blocks, 256, 0, ctx->stream>>>(ctx->d_max_keys, ctx->d_flags, ctx->d_values, lw->count,
                                                         lambda1, lambda2);
    if (lw->tiles > 0)
        shift_apply<<<lethe::grid_for(ctx, lw->tiles), lethe::kThreads, 0, ctx->stream>>>(
            lethe::tile_map(lw), lw->d_ptrs, lf->d_ptrs, lr->d_ptrs, ctx->d_max_keys, ctx->d_values, sign);
    return LETHE_LAUNCH_STATUS();
}
