/* One pass of the radix select behind ratio_threshold_for_fraction (DeepClean's --reset-fraction):
 * a histogram of `bits` bits, starting at `shift`, of the order-preserving key of
 * r = iF / (iR + eps), over the elements whose key matches `prefix` under `prefix_mask`.
 * The host (Java, RadixSelect) runs three passes (11, 11, 10 bits) and picks the bin that holds the
 * k-th largest ratio each time, so no sort is ever needed. Java reference: ScalarKernels. */
#include "multi_tensor.cuh"

namespace {

/* RatioKeys.key: order-preserving, and every NaN (the GPU's 0x7FFFFFFF, the JVM's 0xFFC00000) is key 0,
 * below -inf, so a NaN ratio is never among the largest on any back end. */
__device__ __forceinline__ unsigned int ratio_key(float f, float r_den) {
    float r = __fdiv_rn(f, r_den);
    if (isnan(r)) return 0u;
    unsigned int u = __float_as_uint(r);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/* Adds one to `bin` for every lane that passes `hit`. Lanes of a warp that hit the same bin are merged
 * first (one shared-memory atomic per distinct bin and warp): importance ratios cluster in a few exponents,
 * so in the first pass most of a warp lands in one bin and per-lane atomics would serialise on it.
 * Every lane of the warp must call it (the vector loop and the tail are warp-uniform up to the tail's end). */
__device__ __forceinline__ void count_in_bin(unsigned int *bins, unsigned int bin, bool hit) {
    unsigned int active = __activemask();
    unsigned int voters = __ballot_sync(active, hit);
    if (!hit) return;
    unsigned int same = __match_any_sync(voters, bin);
    if ((threadIdx.x & 31) == __ffs(same) - 1) atomicAdd(&bins[bin], static_cast<unsigned int>(__popc(same)));
}

__global__ void __launch_bounds__(lethe::kThreads)
ratio_histogram_kernel(lethe::TileMap map, float *const *forget, float *const *retain, float eps, int shift,
                       int bits, unsigned int prefix, unsigned int prefix_mask, bool backwards,
                       unsigned long long *histogram) {
    __shared__ unsigned int bins[1 << lethe::kMaxHistogramBits];
    const int nbins = 1 << bits;
    const unsigned int digit_mask = static_cast<unsigned int>(nbins - 1);
    for (int b = threadIdx.x; b < nbins; b += blockDim.x) bins[b] = 0;
    __syncthreads();
    lethe::BlockTiles range = lethe::block_tiles(map);
    for (long long step = 0; step < range.last - range.first; ++step) {
        long long tile = backwards ? range.last - 1 - step : range.first + step;
        lethe::TileSpan span = lethe::tile_span(map, tile);
        float *const p[2] = {forget[span.tensor] + span.begin, retain[span.tensor] + span.begin};
        lethe::for_each_element<2, 0>(p, span.end - span.begin, [&](float (&v)[2]) {
            unsigned int k = ratio_key(v[0], __fadd_rn(v[1], eps));
            count_in_bin(bins, (k >> shift) & digit_mask, (k & prefix_mask) == prefix);
        });
    }
    __syncthreads();
    for (int b = threadIdx.x; b < nbins; b += blockDim.x)
        if (bins[b]) atomicAdd(&histogram[b], static_cast<unsigned long long>(bins[b]));
}

}  // namespace

extern "C" int lethe_ratio_histogram(long long ctx_handle, long long importance_forget, long long importance_retain,
                                     float eps, int shift, int bits, unsigned int prefix, unsigned int prefix_mask) {
    lethe::Ctx *ctx = lethe::ctx_of(ctx_handle);
    lethe::List *f = lethe::list_of(importance_forget);
    lethe::List *r = lethe::list_of(importance_retain);
    if (!ctx || !f || !r || !lethe::same_shape(f, r) || bits < 1 || bits > lethe::kMaxHistogramBits || shift < 0 ||
        shift + bits > 32)
        return LETHE_E_ARGUMENT;
    cudaError_t err = cudaMemsetAsync(ctx->d_histogram, 0, sizeof(unsigned long long) << bits, ctx->stream);
    if (err != cudaSuccess) return err;
    if (f->tiles == 0) return LETHE_OK;
    /* Successive passes (a selection makes three) walk the tiles in alternating directions, so each starts on
     * the tiles the previous one read last, which are still in L2. The histogram does not depend on the order. */
    bool backwards = (ctx->histogram_passes++ & 1) != 0;
    ratio_histogram_kernel<<<lethe::grid_for(ctx, f->tiles), lethe::kThreads, 0, ctx->stream>>>(
        lethe::tile_map(f), f->d_ptrs, r->d_ptrs, eps, shift, bits, prefix, prefix_mask, backwards, ctx->d_histogram);
    return LETHE_LAUNCH_STATUS();
}
