/* Host-side structures shared by the runtime (lethe_runtime.cpp) and the kernel launchers. */
#ifndef LETHE_INTERNAL_H
#define LETHE_INTERNAL_H

#include <cuda_runtime.h>
#include <vector>

#include "lethe_kernels.h"

namespace lethe {

/* Elements per tile. A multiple of 4, so a tile that starts on a 16-byte boundary keeps float4
 * alignment for its whole length. */
constexpr long long kTile = 4096;
constexpr int kThreads = 256;
constexpr int kMaxHistogramBits = 11;

struct Ctx {
    int device = 0;
    int sm_count = 1;
    cudaStream_t own_stream = nullptr;
    cudaStream_t stream = nullptr;
    cudaEvent_t mark_start = nullptr;
    cudaEvent_t mark_stop = nullptr;
    unsigned long long *d_counter = nullptr;
    unsigned long long *d_gradient_non_finite = nullptr; /* NaN/Inf gradient elements the accumulate kernels met */
    unsigned long long *d_histogram = nullptr; /* 1 << kMaxHistogramBits bins */
    unsigned long long histogram_passes = 0;   /* alternates the direction of successive histogram passes */
    /* Per-tensor scratch, grown on demand. */
    int per_tensor_capacity = 0;
    double *d_sums = nullptr;
    int *d_max_keys = nullptr;          /* order-preserving int keys of floats, for atomicMax */
    unsigned long long *d_non_finite = nullptr;
    float *d_values = nullptr;          /* one float per tensor (ratio_shift's alpha_l) */
    int *d_flags = nullptr;             /* one int per tensor (ratio_shift: a NaN was seen) */
};

struct List {
    Ctx *ctx = nullptr;
    int count = 0;
    long long tiles = 0;
    float **d_ptrs = nullptr;          /* [count] */
    long long *d_sizes = nullptr;      /* [count] */
    long long *d_tile_start = nullptr; /* [count + 1], prefix sum of tiles per tensor */
    std::vector<long long> sizes;      /* host mirror, for shape checks */
};

/* The launch geometry for a list: enough blocks to fill the device, never more than the tiles. */
int grid_for(const Ctx *ctx, long long tiles);
/* Make sure the per-tensor scratch holds at least `count` entries. */
cudaError_t ensure_per_tensor(Ctx *ctx, int count);
/* Lists passed to one kernel must have the same tensor count and sizes. */
bool same_shape(const List *a, const List *b);

/* The current CUDA device is a per-host-thread setting: every entry point makes its context's device current,
 * so a context works from any Java thread, beside other contexts, and after libtorch changed the device. */
inline void use_device(int device) {
    int current = -1;
    if (cudaGetDevice(&current) != cudaSuccess || current != device) cudaSetDevice(device);
}

inline Ctx *ctx_of(long long handle) {
    Ctx *ctx = reinterpret_cast<Ctx *>(handle);
    if (ctx) use_device(ctx->device);
    return ctx;
}

/* No device switch here: destroying a list only frees memory (cudaFree takes any device's pointer), and a
 * list may outlive nothing but must never read its context after the context is gone. */
inline List *list_of(long long handle) { return reinterpret_cast<List *>(handle); }

}  // namespace lethe

/* Status of the last launch on the context, as the ABI returns it. */
#define LETHE_LAUNCH_STATUS() static_cast<int>(cudaGetLastError())

#endif /* LETHE_INTERNAL_H */
