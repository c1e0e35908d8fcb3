/*
 * Multi-tensor apply: one launch walks every tensor of up to four lists that share a shape.
 *
 * The element space of a list is cut into tiles of kTile elements that never cross a tensor
 * boundary; tile_start is the per-tensor prefix sum of tile counts, so a block finds the tensor of
 * its tile by binary search. Element-wise kernels stride blocks over tiles (grid-stride), reducing
 * kernels give each block a contiguous range (block_tiles); threads stride over a tile through
 * for_each_element, the one 16-byte load path.
 */
#ifndef LETHE_MULTI_TENSOR_CUH
#define LETHE_MULTI_TENSOR_CUH

#include <cstdint>

#include "block_reduce.cuh"
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

/*
 * The 16-byte load path, the one place that has it: visits elements [0, n) of N arrays that share a span,
 * with float4 loads when every pointer is 16-byte aligned (the loop is unrolled by two so that a thread's
 * next loads can issue before its stores) and a scalar tail.
 * fn(float (&v)[N]) sees one element of every array and may change it; arrays whose bit is set in
 * kWriteMask are stored back. Threads stride by blockDim.x.
 */
template <int N, int kWriteMask, typename Fn>
__device__ __forceinline__ void for_each_element(float *const (&p)[N], long long n, Fn &&fn) {
    bool vec = true;
#pragma unroll
    for (int k = 0; k < N; ++k) vec = vec && aligned16(p[k]);
    long long head = vec ? (n & ~3LL) : 0;
#pragma unroll 2
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
        for (int j = 0; j < 4; ++j) fn(lane[j]);
#pragma unroll
        for (int k = 0; k < N; ++k)
            if (kWriteMask & (1 << k))
                *reinterpret_cast<float4 *>(p[k] + i) = make_float4(lane[0][k], lane[1][k], lane[2][k], lane[3][k]);
    }
    for (long long i = head + threadIdx.x; i < n; i += blockDim.x) {
        float v[N];
#pragma unroll
        for (int k = 0; k < N; ++k) v[k] = p[k][i];
        fn(v);
#pragma unroll
        for (int k = 0; k < N; ++k)
            if (kWriteMask & (1 << k)) p[k][i] = v[k];
    }
}

/*
 * Contiguous tile ranges for the reducing kernels: block b owns tiles [first, last), so it meets each
 * tensor in one run and reduces (and issues its atomics) once per tensor it touches, not once per tile.
 * A second pass that walks the same range backwards starts on the tiles the first pass read last, which
 * are still in L2.
 */
struct BlockTiles {
    long long first;
    long long last;
};

__device__ __forceinline__ BlockTiles block_tiles(const TileMap &map) {
    long long per = (map.tiles + gridDim.x - 1) / gridDim.x;
    long long first = static_cast<long long>(blockIdx.x) * per;
    long long last = first + per < map.tiles ? first + per : map.tiles;
    return BlockTiles{first, first < last ? last : first};
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
#pragma unroll
        for (int k = 0; k < N; ++k) p[k] = lists.ptrs[k][span.tensor] + span.begin;
        for_each_element<N, Op::kWriteMask>(p, span.end - span.begin, [&](float (&v)[N]) { selected += op.apply(v); });
    }
    if (Op::kCounts) {
        unsigned long long total = block_sum(selected);
        if (threadIdx.x == 0 && total) atomicAdd(counter, total);
    }
}

/* Launch Op over lists that share the shape of lists[0]. */
template <int N, typename Op>
int launch_apply(Ctx *ctx, const List *const (&lists)[N], Op op, unsigned long long *counter) {
    for (int k = 1; k < N; ++k)
        if (!same_shape(lists[0], lists[k])) return LETHE_E_ARGUMENT;
    if (lists[0]->tiles == 0) return LETHE_OK;
    ListArgs<N> args;
    for (int k = 0; k < N; ++k) args.ptrs[k] = lists[k]->d_ptrs;
    multi_tensor_apply<N, Op><<<grid_for(ctx, lists[0]->tiles), kThreads, 0, ctx->stream>>>(
        tile_map(lists[0]), args, op, counter);
    return LETHE_LAUNCH_STATUS();
}

/* Launch Op with its counts going to the context's counter (selected elements of the update kernels). */
template <int N, typename Op>
int launch_apply(Ctx *ctx, const List *const (&lists)[N], Op op) {
    return launch_apply(ctx, lists, op, ctx->d_counter);
}

}  // namespace lethe

#endif /* LETHE_MULTI_TENSOR_CUH */
