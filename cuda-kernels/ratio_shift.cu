/* Mnemonic-code one-shot update (docs: the Mnemonic section of ALGORITHMS.md; reference: OneShotMU-with-MNCode):
 *   d = ln fF - ln fR, both logarithms and the difference in double, rounded once to float;
 *   NaN -> 0, +-inf -> the largest finite d of the tensor (0 if none);
 *   eta = exp(d) in double, rounded to float;  alpha_l = min(lambda1, lambda2 / max eta);
 *   w <- w + sign * alpha_l * eta (fp32).
 * Double precision makes d independent of how each library rounds logf/expf (in float, d = logf - logf
 * cancels and a one-ulp difference in a log of magnitude ~88 became a 2.4e-5 relative error in eta), so every
 * back end gets the same floats. Three launches: reset the per-tensor slots, a per-tensor reduction of d, and
 * the update (each block derives alpha_l of its tensor from the reduced slots). The update walks each block's
 * tile range backwards, starting on the tiles the reduction read last, which are still in L2.
 * Java reference: ScalarKernels.ratioShift, MnemonicMath. */
#include <cfloat>

#include "multi_tensor.cuh"

namespace {

constexpr int kSawNaN = 1;
constexpr int kSawInf = 2;

__device__ __forceinline__ float log_ratio(float f_forget, float f_retain) {
    return __double2float_rn(__dsub_rn(log(static_cast<double>(f_forget)), log(static_cast<double>(f_retain))));
}

__device__ __forceinline__ float eta_of(float d) { return __double2float_rn(exp(static_cast<double>(d))); }

/* Also sets every alpha_l to lambda1, what a tensor without elements (no d at all) gets; the update
 * overwrites it for every tensor that has elements. */
__global__ void init_shift(int *max_keys, int *flags, float *alphas, int count, float lambda1) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t < count) {
        max_keys[t] = lethe::float_to_ordered(-INFINITY);
        flags[t] = 0;
        alphas[t] = lambda1;
    }
}

__device__ __forceinline__ void flush_shift(float max, int seen, int t, int *max_keys, int *flags) {
    float m = lethe::block_max(max);
    int all = lethe::block_reduce(seen, lethe::BitOrOp{});
    if (threadIdx.x == 0) {
        if (m != -INFINITY) atomicMax(&max_keys[t], lethe::float_to_ordered(m));
        if (all) atomicOr(&flags[t], all);
    }
}

__global__ void __launch_bounds__(lethe::kThreads)
shift_reduce(lethe::TileMap map, float *const *forget, float *const *retain, int *max_keys, int *flags) {
    lethe::BlockTiles range = lethe::block_tiles(map);
    float max = -INFINITY;
    int seen = 0;
    int current = -1;
    for (long long tile = range.first; tile < range.last; ++tile) {
        lethe::TileSpan span = lethe::tile_span(map, tile);
        if (span.tensor != current) { /* the same for every thread of the block */
            if (current >= 0) flush_shift(max, seen, current, max_keys, flags);
            max = -INFINITY;
            seen = 0;
            current = span.tensor;
        }
        float *const p[2] = {forget[span.tensor] + span.begin, retain[span.tensor] + span.begin};
        lethe::for_each_element<2, 0>(p, span.end - span.begin, [&](float (&v)[2]) {
            float d = log_ratio(v[0], v[1]);
            if (isnan(d)) seen |= kSawNaN;
            else if (isinf(d)) seen |= kSawInf;
            else max = lethe::ordered_max(d, max);
        });
    }
    if (current >= 0) flush_shift(max, seen, current, max_keys, flags);
}

/* alpha_l of one tensor and the value that replaces its +-inf, from the reduced slots (MnemonicMath.alpha). */
struct TensorShift {
    float alpha;
    float inf_fill;
};

__device__ __forceinline__ TensorShift tensor_shift(int max_key, int flags, float lambda1, float lambda2) {
    float max_finite = lethe::ordered_to_float(max_key);
    bool has_finite = max_finite != -INFINITY;
    float inf_fill = has_finite ? max_finite : 0.0f;
    float max_d = max_finite;
    if ((flags & kSawNaN) && 0.0f > max_d) max_d = 0.0f;
    if ((flags & kSawInf) && inf_fill > max_d) max_d = inf_fill;
    float limit = max_d == -INFINITY ? lambda1 : __fdiv_rn(lambda2, eta_of(max_d));
    return TensorShift{lambda1 < limit ? lambda1 : limit, inf_fill};
}

__global__ void __launch_bounds__(lethe::kThreads)
shift_apply(lethe::TileMap map, float *const *w, float *const *forget, float *const *retain, const int *max_keys,
            const int *flags, float *alphas, float sign, float lambda1, float lambda2) {
    lethe::BlockTiles range = lethe::block_tiles(map);
    for (long long tile = range.last - 1; tile >= range.first; --tile) {
        lethe::TileSpan span = lethe::tile_span(map, tile);
        TensorShift s = tensor_shift(max_keys[span.tensor], flags[span.tensor], lambda1, lambda2);
        /* The block that owns a tensor's first tile reports its alpha_l (every tensor with elements has one). */
        if (threadIdx.x == 0 && span.begin == 0) alphas[span.tensor] = s.alpha;
        float *const p[3] = {w[span.tensor] + span.begin, forget[span.tensor] + span.begin,
                             retain[span.tensor] + span.begin};
        lethe::for_each_element<3, 1>(p, span.end - span.begin, [&](float (&v)[3]) {
            float d = log_ratio(v[1], v[2]);
            if (isnan(d)) d = 0.0f;
            else if (isinf(d)) d = s.inf_fill;
            float step = __fmul_rn(s.alpha, eta_of(d));
            v[0] = sign > 0.0f ? __fadd_rn(v[0], step) : __fsub_rn(v[0], step);
        });
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
    init_shift<<<small_blocks, 256, 0, ctx->stream>>>(ctx->d_max_keys, ctx->d_flags, ctx->d_values, lw->count,
                                                       lambda1);
    if (lw->tiles > 0) {
        int grid = lethe::grid_for(ctx, lw->tiles);
        /* The same grid for both passes, so each block walks back over the tiles it reduced. */
        shift_reduce<<<grid, lethe::kThreads, 0, ctx->stream>>>(lethe::tile_map(lf), lf->d_ptrs, lr->d_ptrs,
                                                                ctx->d_max_keys, ctx->d_flags);
        shift_apply<<<grid, lethe::kThreads, 0, ctx->stream>>>(lethe::tile_map(lw), lw->d_ptrs, lf->d_ptrs,
                                                               lr->d_ptrs, ctx->d_max_keys, ctx->d_flags,
                                                               ctx->d_values, sign, lambda1, lambda2);
    }
    return LETHE_LAUNCH_STATUS();
}
