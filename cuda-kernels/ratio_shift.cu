/* Mnemonic-code one-shot update (docs/algorithms.md, sections 3.3 and 5.6; reference: OneShotMU-with-MNCode, which computes eta = exp(log fF - log fR)):
 *   eta = fF / fR in double, rounded once to float, where d = ln fF - ln fR is finite;
 *   d NaN (an input NaN or negative, 0/0, inf/inf) -> eta = 1; d +-inf (exactly one input 0 or +inf) -> eta = the
 *   largest finite eta of the tensor (1 if none);  alpha_l = min(lambda1, lambda2 / max eta);
 *   w <- w + sign * alpha_l * eta (fp32).
 * IEEE division is correctly rounded here and on the JVM, so every back end gets the same floats; the fp32 logs
 * (logf - logf of values near -88) failed five checks on the H200 with a 2.4e-5 relative error in eta.
 * Three launches: reset the per-tensor slots, a per-tensor reduction, and the update (each block derives
 * alpha_l of its tensor from the reduced slots). The update walks each block's tile range backwards, starting on
 * the tiles the reduction read last, which are still in L2.
 * Java reference: ScalarKernels.ratioShift, MnemonicMath. */
#include <cfloat>

#include "multi_tensor.cuh"

namespace {

constexpr int kSawNaN = 1;
constexpr int kSawInf = 2;

enum DClass { kFinite = 0, kNaN = 1, kInfinite = 2 };

/* MnemonicMath.classify and quotient: the class of d = ln fF - ln fR, and eta = fF / fR when d is finite. */
__device__ __forceinline__ DClass classify(float f_forget, float f_retain, float &eta) {
    if (!(f_forget >= 0.0f) || !(f_retain >= 0.0f)) return kNaN; /* NaN or negative; -0.0 is not negative */
    double q = __ddiv_rn(static_cast<double>(f_forget), static_cast<double>(f_retain));
    if (isnan(q)) return kNaN;
    if (q == 0.0 || isinf(q)) return kInfinite;
    eta = __double2float_rn(q);
    return kFinite;
}

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
            float eta = 0.0f;
            DClass c = classify(v[0], v[1], eta);
            if (c == kNaN) seen |= kSawNaN;
            else if (c == kInfinite) seen |= kSawInf;
            else max = lethe::ordered_max(eta, max);
        });
    }
    if (current >= 0) flush_shift(max, seen, current, max_keys, flags);
}

/* alpha_l of one tensor and the eta that replaces d = +-inf, from the reduced slots (MnemonicMath.alpha). */
struct TensorShift {
    float alpha;
    float inf_fill;
};

__device__ __forceinline__ TensorShift tensor_shift(int max_key, int flags, float lambda1, float lambda2) {
    float max_finite = lethe::ordered_to_float(max_key);
    float inf_fill = max_finite != -INFINITY ? max_finite : 1.0f;
    float max_eta = max_finite;
    if ((flags & kSawNaN) && 1.0f > max_eta) max_eta = 1.0f;
    if ((flags & kSawInf) && inf_fill > max_eta) max_eta = inf_fill;
    float limit = max_eta == -INFINITY ? lambda1 : __fdiv_rn(lambda2, max_eta);
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
            float eta = 0.0f;
            DClass c = classify(v[1], v[2], eta);
            if (c == kNaN) eta = 1.0f;
            else if (c == kInfinite) eta = s.inf_fill;
            float step = __fmul_rn(s.alpha, eta);
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
