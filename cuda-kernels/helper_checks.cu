/* Device checks of the shared helpers (native/block_reduce.cuh, native/multi_tensor.cuh) on known inputs:
 * block reductions (called twice in a row, as the reducing kernels do), the one max rule (+0.0 above -0.0),
 * the 16-byte load path on aligned and unaligned spans of odd lengths, and the contiguous tile ranges.
 * The kernel checks test the helpers through every kernel; these name the helper when one breaks. */
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "multi_tensor.cuh"

namespace {

/* out[0..2]: two block sums of the same values (1..kThreads) and a block max of values that are all zeros,
 * half of them -0.0; out_bits: the bit-or of 1 << (thread % 31). */
__global__ void reduce_check(double *out, float *max_out, int *or_out) {
    double v = threadIdx.x + 1;
    double first = lethe::block_sum(v);
    double second = lethe::block_sum(2 * v);
    float zero = (threadIdx.x & 1) ? -0.0f : 0.0f;
    float max_zero = lethe::block_max(zero);
    float max_mixed = lethe::block_max(threadIdx.x == 77 ? 3.5f : -static_cast<float>(threadIdx.x));
    int bits = lethe::block_reduce(1 << (threadIdx.x % 31), lethe::BitOrOp{});
    if (threadIdx.x == 0) {
        out[0] = first;
        out[1] = second;
        max_out[0] = max_zero;
        max_out[1] = max_mixed;
        *or_out = bits;
    }
}

/* Adds 1 to every element of p[0..n) and counts the visits of each element in q. */
__global__ void visit_check(float *p, float *q, long long n) {
    float *const lists[2] = {p, q};
    lethe::for_each_element<2, 3>(lists, n, [](float (&v)[2]) {
        v[0] += 1.0f;
        v[1] += 1.0f;
    });
}

__global__ void tiles_check(lethe::TileMap map, int *owner_count) {
    lethe::BlockTiles range = lethe::block_tiles(map);
    if (threadIdx.x == 0)
        for (long long t = range.first; t < range.last; ++t) atomicAdd(&owner_count[t], 1);
}

__global__ void empty_kernel() {}

int fail(char *msg, int len, const char *text) {
    if (msg && len > 0) std::snprintf(msg, static_cast<size_t>(len), "%s", text);
    return LETHE_E_CHECK;
}

}  // namespace

extern "C" int lethe_check_helpers(long long ctx_handle, char *msg, int msg_len) {
    lethe::Ctx *ctx = lethe::ctx_of(ctx_handle);
    if (!ctx) return LETHE_E_ARGUMENT;
    if (msg && msg_len > 0) msg[0] = '\0';
    const int n_threads = lethe::kThreads;
    double *d_sums = nullptr;
    float *d_max = nullptr, *d_p = nullptr, *d_q = nullptr;
    int *d_or = nullptr, *d_owner = nullptr;
    long long *d_tile_start = nullptr, *d_sizes = nullptr;
    const long long big = 4097 + 4;       /* room for an unaligned span of 4097 */
    const long long tiles = 1000;
    int status = LETHE_OK;
    cudaError_t err = cudaSuccess;
    auto check_cuda = [&](cudaError_t e) { if (err == cudaSuccess && e != cudaSuccess) err = e; };
    check_cuda(cudaMalloc(&d_sums, 2 * sizeof(double)));
    check_cuda(cudaMalloc(&d_max, 2 * sizeof(float)));
    check_cuda(cudaMalloc(&d_or, sizeof(int)));
    check_cuda(cudaMalloc(&d_p, big * sizeof(float)));
    check_cuda(cudaMalloc(&d_q, big * sizeof(float)));
    check_cuda(cudaMalloc(&d_owner, tiles * sizeof(int)));
    check_cuda(cudaMalloc(&d_tile_start, 2 * sizeof(long long)));
    check_cuda(cudaMalloc(&d_sizes, sizeof(long long)));
    if (err == cudaSuccess) {
        reduce_check<<<1, n_threads, 0, ctx->stream>>>(d_sums, d_max, d_or);
        double sums[2];
        float maxes[2];
        int bits = 0;
        check_cuda(cudaMemcpyAsync(sums, d_sums, sizeof(sums), cudaMemcpyDeviceToHost, ctx->stream));
        check_cuda(cudaMemcpyAsync(maxes, d_max, sizeof(maxes), cudaMemcpyDeviceToHost, ctx->stream));
        check_cuda(cudaMemcpyAsync(&bits, d_or, sizeof(bits), cudaMemcpyDeviceToHost, ctx->stream));
        check_cuda(cudaStreamSynchronize(ctx->stream));
        double expected = n_threads * (n_threads + 1) / 2.0;
        unsigned int zero_bits;
        std::memcpy(&zero_bits, &maxes[0], sizeof(zero_bits));
        if (err != cudaSuccess) {
        } else if (sums[0] != expected || sums[1] != 2 * expected) {
            status = fail(msg, msg_len, "block_sum: wrong total (or a second call in a row read stale shared memory)");
        } else if (zero_bits != 0u) {
            status = fail(msg, msg_len, "block_max: -0.0 ranked above +0.0");
        } else if (maxes[1] != 3.5f) {
            status = fail(msg, msg_len, "block_max: wrong maximum");
        } else if (bits != 0x7fffffff) {
            status = fail(msg, msg_len, "block_reduce(BitOrOp): wrong bits");
        }
    }
    /* The load path: odd lengths, aligned (offset 0) and unaligned (offset 1) starts. */
    const long long lengths[] = {1, 7, 65, 4097};
    for (int offset = 0; offset < 2 && err == cudaSuccess && status == LETHE_OK; ++offset) {
        for (long long n : lengths) {
            check_cuda(cudaMemsetAsync(d_p, 0, big * sizeof(float), ctx->stream));
            check_cuda(cudaMemsetAsync(d_q, 0, big * sizeof(float), ctx->stream));
            visit_check<<<1, n_threads, 0, ctx->stream>>>(d_p + offset, d_q + offset, n);
            std::vector<float> p(big), q(big);
            check_cuda(cudaMemcpyAsync(p.data(), d_p, big * sizeof(float), cudaMemcpyDeviceToHost, ctx->stream));
            check_cuda(cudaMemcpyAsync(q.data(), d_q, big * sizeof(float), cudaMemcpyDeviceToHost, ctx->stream));
            check_cuda(cudaStreamSynchronize(ctx->stream));
            if (err != cudaSuccess) break;
            for (long long i = 0; i < big; ++i) {
                float want = (i >= offset && i < offset + n) ? 1.0f : 0.0f;
                if (p[i] != want || q[i] != want) {
                    char text[160];
                    std::snprintf(text, sizeof(text),
                                  "for_each_element: element %lld of a span of %lld at offset %d visited %g times, "
                                  "expected %g", i - offset, n, offset, static_cast<double>(p[i]),
                                  static_cast<double>(want));
                    status = fail(msg, msg_len, text);
                    break;
                }
            }
            if (status != LETHE_OK) break;
        }
    }
    /* Contiguous tile ranges: every tile owned by exactly one block, for grids that do and do not divide. */
    const int grids[] = {1, 37, 1000};
    for (int grid : grids) {
        if (err != cudaSuccess || status != LETHE_OK) break;
        long long tile_start[2] = {0, tiles};
        long long sizes[1] = {tiles * lethe::kTile};
        check_cuda(cudaMemcpyAsync(d_tile_start, tile_start, sizeof(tile_start), cudaMemcpyHostToDevice, ctx->stream));
        check_cuda(cudaMemcpyAsync(d_sizes, sizes, sizeof(sizes), cudaMemcpyHostToDevice, ctx->stream));
        check_cuda(cudaMemsetAsync(d_owner, 0, tiles * sizeof(int), ctx->stream));
        tiles_check<<<grid, 32, 0, ctx->stream>>>(lethe::TileMap{d_tile_start, d_sizes, 1, tiles}, d_owner);
        std::vector<int> owners(tiles);
        check_cuda(cudaMemcpyAsync(owners.data(), d_owner, tiles * sizeof(int), cudaMemcpyDeviceToHost, ctx->stream));
        check_cuda(cudaStreamSynchronize(ctx->stream));
        if (err != cudaSuccess) break;
        for (long long t = 0; t < tiles; ++t) {
            if (owners[t] != 1) {
                char text[120];
                std::snprintf(text, sizeof(text), "block_tiles: tile %lld of %lld owned by %d blocks (grid %d)", t,
                              tiles, owners[t], grid);
                status = fail(msg, msg_len, text);
                break;
            }
        }
    }
    check_cuda(cudaGetLastError());
    cudaFree(d_sums);
    cudaFree(d_max);
    cudaFree(d_or);
    cudaFree(d_p);
    cudaFree(d_q);
    cudaFree(d_owner);
    cudaFree(d_tile_start);
    cudaFree(d_sizes);
    if (err != cudaSuccess) return static_cast<int>(err);
    return status;
}

extern "C" int lethe_empty_launch_ms(long long ctx_handle, int launches, float *ms_out) {
    lethe::Ctx *ctx = lethe::ctx_of(ctx_handle);
    if (!ctx || !ms_out || launches < 1) return LETHE_E_ARGUMENT;
    cudaError_t err = cudaEventRecord(ctx->mark_start, ctx->stream);
    for (int i = 0; i < launches && err == cudaSuccess; ++i) {
        empty_kernel<<<1, 32, 0, ctx->stream>>>();
        err = cudaGetLastError();
    }
    if (err == cudaSuccess) err = cudaEventRecord(ctx->mark_stop, ctx->stream);
    if (err == cudaSuccess) err = cudaEventSynchronize(ctx->mark_stop);
    float total = 0.0f;
    if (err == cudaSuccess) err = cudaEventElapsedTime(&total, ctx->mark_start, ctx->mark_stop);
    if (err != cudaSuccess) return static_cast<int>(err);
    *ms_out = total / launches;
    return LETHE_OK;
}
