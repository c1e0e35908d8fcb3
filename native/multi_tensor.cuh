/*
 * Multi-tensor apply: one launch walks every tensor of up to four lists that share a shape.
 *
 * The element space of a list is cut into tiles of kTile elements that never cross a tensor
 * boundary; tile_start is the per-tensor prefix sum of tile counts, so a block finds the tensor of
 * its tile by binary search. Blocks stride over tiles (grid-stride), threads over the tile, with
 * float4 loads and stores when every pointer of the tile is 16-byte aligned and a scalar tail.
 */
#ifndef LETHE_MULTI_TENSOR_CUH
#define LETHE_MULTI_TENSOR_CUH

#include <cstdint>

#include "lethe_internal.h"

namespace lethe {

template <int N>
struct ListArgs {
    float *const *ptrs[N];
};

struct TileMap {
    const long long *tile_start; /* [count + 1] */
    const long long *sizes;      /* [count] */
    int count;
    long long tiles;
};

inline TileMap tile_map(const List *l) { return TileMap{l->d_tile_start, l->d_sizes, l->count, l->tiles}; }

/* The tensor that owns `tile`: the last t with tile_start[t] <= tile (empty tensors own no tile). */
__device__ __forceinline__ int tensor_of_tile(const TileMap &map, long long tile) {
    int lo = 0, hi = map.count - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) >> 1;
        if (map.tile_start[mid] <= tile) lo = mid; else hi = mid - 1;
    }
    return lo;
}

/* Where a tile lives: its tensor, and the element range [begin, end) inside that tensor. */
struct TileSpan {
    int tensor;
    long long begin;
    long long end;
};

__device__ __forceinline__ TileSpan tile_span(const TileMap &map, long long tile) {
    int t = tensor_of_tile(map, tile);
    long long begin = (tile - map.tile_start[t]) * kTile;
    long long end = begin + kTile;
    if (end > map.sizes[t]) end = map.sizes[t];
    return TileSpan{t, begin, end};
}

__device__ __forceinline__ bool aligned16(const float *p) {
    return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
}

/* Block-wide sum of one value per thread; the result is valid in thread 0. */
template <typename T>
__device__ __forceinline__ T block_sum(T v) {
    __shared__ T warp_sums[kThreads / 32];
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads(); /* warp_sums may still be read by a previous call */
    if (lane == 0) warp_sums[warp] = v;
    __syncthreads();
    T total = 0;
    if (threadIdx.x == 0)
        for (int w = 0; w < kThreads / 32; ++w) total += warp_sums[w];
    return total;
}

/* Order-preserving map from float to int, so that atomicMax on ints is a max on floats. */
__device__ __forceinline__ int float_to_ordered(float f) {
    int i = __float_as_int(f);
    return i >= 0 ? i : i ^ 0x7fffffff;
}
__device__ __forceinline__ float ordered_to_float(int i) {
    return __int_as_float(i >= 0 ? i : i ^ 0x7fffffff);
}

/*
 * The element-wise engine. Op supplies:
 *   static constexpr int kWriteMask;   bit k set = list k is written back
 *   static constexpr bool kCounts;     true = apply() returns 0/1 and the kernel counts the ones
 *   __device__ int apply(float (&v)[N]) const;   reads and updates one element of every list
 */
template <int N, typename Op>
__global__ void __launch_bounds__(kThreads)
multi_tensor_apply(TileMap map, ListArgs<N> lists, Op op, unsigned long long *counter) {
    unsigned long long selected = 0;
    for (long long tile = blockIdx.x; tile < map.tiles; tile += gridDim.x) {
        TileSpan span = tile_span(map, tile);
        float *p[N];
        bool vec = true;
#pragma unroll
        for (int k = 0; k < N; ++k) {
            p[k] = lists.ptrs[k][span.tensor] + span.begin;
            vec = vec && aligned16(p[k]);
        }
        long long n = span.end - span.begin;
        long long head = vec ? (n & ~3LL) : 0;
        for (long long i = 4 * threadIdx.x; i < head; i += 4 * blockDim.x) {
            float4 q[N];
#pragma unroll
            for (int k = 0; k < N; ++k) q[k] = *reinterpret_cast<const float4 *>(p[k] + i);
            float lane[4][N];
#pragma unroll
            for (int k = 0; k < N; ++k) {
                lane[0][k] = q[k].x; lane[1][k] = q[k].y; lane[2][k] = q[k].z; lane[3][k] = q[k].w;
            }
#pragma unroll
            for (int j = 0; j < 4; ++j) selected += op.apply(lane[j]);
#pragma unroll
            for (int k = 0; k < N; ++k) {
                if (Op::kWriteMask & (1 << k)) {
                    *reinterpret_cast<float4 *>(p[k] + i) = make_float4(lane[0][k], lane[1][k], lane[2][k], lane[3][k]);
                }
            }
        }
        for (long long i = head + threadIdx.x; i < n; i += blockDim.x) {
            float v[N];
#pragma unroll
            for (int k = 0; k < N; ++k) v[k] = p[k][i];
            selected += op.apply(v);
#pragma unroll
            for (int k = 0; k < N; ++k)
                if (Op::kWriteMask & (1 << k)) p[k][i] = v[k];
        }
    }
    if (Op::kCounts) {
        unsigned long long total = block_sum(selected);
        if (threadIdx.x == 0 && total) atomicAdd(counter, total);
    }
}

/* Launch Op over lists that share the shape of lists[0]. */
template <int N, typename Op>
int launch_apply(Ctx *ctx, const List *const (&lists)[N], Op op) {
    for (int k = 1; k < N; ++k)
        if (!same_shape(lists[0], lists[k])) return LETHE_E_ARGUMENT;
    if (lists[0]->tiles == 0) return LETHE_OK;
    ListArgs<N> args;
    for (int k = 0; k < N; ++k) args.ptrs[k] = lists[k]->d_ptrs;
    multi_tensor_apply<N, Op><<<grid_for(ctx, lists[0]->tiles), kThreads, 0, ctx->stream>>>(
        tile_map(lists[0]), args, op, ctx->d_counter);
    return LETHE_LAUNCH_STATUS();
}

}  // namespace lethe

#endif /* LETHE_MULTI_TENSOR_CUH */
