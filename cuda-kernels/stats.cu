/* Per-tensor statistics: sum and max of the finite values, number of non-finite values. Used to
 * reject NaN/Inf gradients with a clear error, and by the profiler. Each block reduces a contiguous run
 * of tiles and adds to a tensor's slot once per tensor it touches (not once per tile: the per-tile
 * reductions and atomics held the kernel at a quarter of the copy's bandwidth). Java reference:
 * ScalarKernels.stats. */
#include <cfloat>

#include "multi_tensor.cuh"

namespace {

__global__ void init_stats(double *sums, int *max_keys, unsigned long long *non_finite, int count) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t < count) {
        sums[t] = 0.0;
        max_keys[t] = lethe::float_to_ordered(-INFINITY);
        non_finite[t] = 0;
    }
}

struct Partial {
    double sum = 0.0;
    float max = -INFINITY;
    unsigned long long bad = 0;

    __device__ __forceinline__ void observe(float v) {
        if (isfinite(v)) {
            sum += v;
            max = lethe::ordered_max(v, max);
        } else {
            ++bad;
        }
    }
};

/* Block-wide reduction of the threads' partials into tensor t's slots. */
__device__ __forceinline__ void flush(const Partial &p, int t, double *sums, int *max_keys,
                                      unsigned long long *non_finite) {
    double sum = lethe::block_sum(p.sum);
    unsigned long long bad = lethe::block_sum(p.bad);
    float max = lethe::block_max(p.max);
    if (threadIdx.x == 0) {
        if (sum != 0.0) atomicAdd(&sums[t], sum);
        if (max != -INFINITY) atomicMax(&max_keys[t], lethe::float_to_ordered(max));
        if (bad) atomicAdd(&non_finite[t], bad);
    }
}

__global__ void __launch_bounds__(lethe::kThreads)
stats_kernel(lethe::TileMap map, float *const *x, double *sums, int *max_keys, unsigned long long *non_finite) {
    lethe::BlockTiles range = lethe::block_tiles(map);
    Partial partial;
    int current = -1;
    for (long long tile = range.first; tile < range.last; ++tile) {
        lethe::TileSpan span = lethe::tile_span(map, tile);
        if (span.tensor != current) { /* the same for every thread of the block */
            if (current >= 0) flush(partial, current, sums, max_keys, non_finite);
            partial = Partial{};
            current = span.tensor;
        }
        float *const p[1] = {x[span.tensor] + span.begin};
        lethe::for_each_element<1, 0>(p, span.end - span.begin, [&](float (&v)[1]) { partial.observe(v[0]); });
    }
    if (current >= 0) flush(partial, current, sums, max_keys, non_finite);
}

}  // namespace

extern "C" int lethe_stats(long long ctx_handle, long long x) {
    lethe::Ctx *ctx = lethe::ctx_of(ctx_handle);
    lethe::List *l = lethe::list_of(x);
    if (!ctx || !l) return LETHE_E_ARGUMENT;
    if (l->count == 0) return LETHE_OK;
    cudaError_t err = lethe::ensure_per_tensor(ctx, l->count);
    if (err != cudaSuccess) return err;
    init_stats<<<(l->count + 255) / 256, 256, 0, ctx->stream>>>(ctx->d_sums, ctx->d_max_keys, ctx->d_non_finite,
                                                                 l->count);
    if (l->tiles > 0)
        stats_kernel<<<lethe::grid_for(ctx, l->tiles), lethe::kThreads, 0, ctx->stream>>>(
            lethe::tile_map(l), l->d_ptrs, ctx->d_sums, ctx->d_max_keys, ctx->d_non_finite);
    return LETHE_LAUNCH_STATUS();
}
