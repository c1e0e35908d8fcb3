/* Per-tensor statistics: sum and max of the finite values, number of non-finite values. Used to
 * reject NaN/Inf gradients with a clear error, and by the profiler. Each tile belongs to one tensor,
 * so a block reduces its tile and adds the result to that tensor's slot. Java reference:
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

/* The larger of two non-NaN floats with +0.0 above -0.0, as Java's Math.max orders them (v > max and fmaxf
 * may keep either zero): compared through the order-preserving int keys. */
__device__ __forceinline__ float java_max(float a, float b) {
    return lethe::float_to_ordered(a) >= lethe::float_to_ordered(b) ? a : b;
}

__device__ __forceinline__ void observe(float v, double &sum, float &max, unsigned long long &bad) {
    if (isfinite(v)) {
        sum += v;
        max = java_max(v, max);
    } else {
        ++bad;
    }
}

__global__ void __launch_bounds__(lethe::kThreads)
stats_kernel(lethe::TileMap map, float *const *x, double *sums, int *max_keys, unsigned long long *non_finite) {
    __shared__ float warp_max[lethe::kThreads / 32];
    for (long long tile = blockIdx.x; tile < map.tiles; tile += gridDim.x) {
        lethe::TileSpan span = lethe::tile_span(map, tile);
        const float *p = x[span.tensor] + span.begin;
        long long n = span.end - span.begin;
        double sum = 0.0;
        float max = -INFINITY;
        unsigned long long bad = 0;
        long long head = lethe::aligned16(p) ? (n & ~3LL) : 0;
        for (long long i = 4 * threadIdx.x; i < head; i += 4 * blockDim.x) {
            float4 q = *reinterpret_cast<const float4 *>(p + i);
            observe(q.x, sum, max, bad); observe(q.y, sum, max, bad);
            observe(q.z, sum, max, bad); observe(q.w, sum, max, bad);
        }
        for (long long i = head + threadIdx.x; i < n; i += blockDim.x) observe(p[i], sum, max, bad);

        double block_total = lethe::block_sum(sum);
        unsigned long long block_bad = lethe::block_sum(bad);
        for (int offset = 16; offset > 0; offset >>= 1) max = java_max(max, __shfl_down_sync(0xffffffffu, max, offset));
        __syncthreads();
        if ((threadIdx.x & 31) == 0) warp_max[threadIdx.x >> 5] = max;
        __syncthreads();
        if (threadIdx.x == 0) {
            float m = -INFINITY;
            for (int w = 0; w < lethe::kThreads / 32; ++w) m = java_max(m, warp_max[w]);
            atomicAdd(&sums[span.tensor], block_total);
            atomicMax(&max_keys[span.tensor], lethe::float_to_ordered(m));
            if (block_bad) atomicAdd(&non_finite[span.tensor], block_bad);
        }
    }
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
