/*
 * Block-wide reductions shared by the kernels that reduce (stats, ratio_shift): one warp-shuffle tree per
 * warp, then the warp results through shared memory. One max rule everywhere: values are compared through
 * their order-preserving int keys, so +0.0 ranks above -0.0 as in Java's Math.max. NaN never enters a max
 * (callers count or sanitise it first). Checked on the device by lethe_check_helpers (helper_checks.cu).
 */
#ifndef LETHE_BLOCK_REDUCE_CUH
#define LETHE_BLOCK_REDUCE_CUH

#include "lethe_internal.h"

namespace lethe {

/* Order-preserving map from float to int, so that atomicMax on ints is a max on floats. */
__device__ __forceinline__ int float_to_ordered(float f) {
    int i = __float_as_int(f);
    return i >= 0 ? i : i ^ 0x7fffffff;
}
__device__ __forceinline__ float ordered_to_float(int i) {
    return __int_as_float(i >= 0 ? i : i ^ 0x7fffffff);
}

/* The larger of two non-NaN floats, +0.0 above -0.0 (fmaxf and `a > b` may keep either zero). */
__device__ __forceinline__ float ordered_max(float a, float b) {
    return float_to_ordered(a) >= float_to_ordered(b) ? a : b;
}

struct SumOp {
    template <typename T>
    __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};

struct BitOrOp {
    __device__ __forceinline__ int operator()(int a, int b) const { return a | b; }
};

struct OrderedMaxOp {
    __device__ __forceinline__ float operator()(float a, float b) const { return ordered_max(a, b); }
};

/* Reduces one value per thread of a kThreads-thread block with `op`; the result is valid in thread 0.
 * Every thread of the block must call it (it synchronises), and it may be called several times in a row. */
template <typename T, typename Op>
__device__ __forceinline__ T block_reduce(T v, Op op) {
    __shared__ T partial[kThreads / 32];
    for (int offset = 16; offset > 0; offset >>= 1) v = op(v, __shfl_down_sync(0xffffffffu, v, offset));
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads(); /* `partial` may still be read by the previous call */
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (threadIdx.x == 0)
        for (int w = 1; w < kThreads / 32; ++w) v = op(v, partial[w]);
    return v;
}

template <typename T>
__device__ __forceinline__ T block_sum(T v) { return block_reduce(v, SumOp{}); }

__device__ __forceinline__ float block_max(float v) { return block_reduce(v, OrderedMaxOp{}); }

}  // namespace lethe

#endif /* LETHE_BLOCK_REDUCE_CUH */
