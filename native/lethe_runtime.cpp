/* Host runtime of the CUDA back end: device probe, contexts, memory, tensor lists, result readback. */
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>

#include <nvtx3/nvToolsExt.h>

#include "lethe_internal.h"

using lethe::Ctx;
using lethe::List;

namespace {

std::once_flag probe_once;
int probed_devices = 0;
int probe_status = 0;

void probe() {
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
        probe_status = static_cast<int>(err);
        probed_devices = 0;
        cudaGetLastError(); /* clear the sticky-free error so later calls start clean */
        return;
    }
    probe_status = n > 0 ? 0 : LETHE_E_NO_DEVICE;
    probed_devices = n;
}

template <typename T>
cudaError_t grow(T **ptr, int count) {
    if (*ptr) cudaFree(*ptr);
    *ptr = nullptr;
    return cudaMalloc(reinterpret_cast<void **>(ptr), sizeof(T) * static_cast<size_t>(count));
}

}  // namespace

namespace lethe {

int grid_for(const Ctx *ctx, long long tiles) {
    long long blocks = static_cast<long long>(ctx->sm_count) * 8;
    return static_cast<int>(std::max(1LL, std::min(tiles, blocks)));
}

cudaError_t ensure_per_tensor(Ctx *ctx, int count) {
    if (count <= ctx->per_tensor_capacity) return cudaSuccess;
    int cap = std::max(count, 64);
    cudaError_t err;
    /* grow() frees before it allocates: until all five succeed the old capacity no longer holds, and a
     * failure half way must not leave a capacity that promises buffers that are gone. */
    ctx->per_tensor_capacity = 0;
    if ((err = grow(&ctx->d_sums, cap)) != cudaSuccess) return err;
    if ((err = grow(&ctx->d_max_keys, cap)) != cudaSuccess) return err;
    if ((err = grow(&ctx->d_non_finite, cap)) != cudaSuccess) return err;
    if ((err = grow(&ctx->d_values, cap)) != cudaSuccess) return err;
    if ((err = grow(&ctx->d_flags, cap)) != cudaSuccess) return err;
    ctx->per_tensor_capacity = cap;
    return cudaSuccess;
}

bool same_shape(const List *a, const List *b) {
    return a && b && a->ctx == b->ctx && a->sizes == b->sizes;
}

}  // namespace lethe

extern "C" {

int lethe_cuda_device_count(void) {
    std::call_once(probe_once, probe);
    return probed_devices;
}

int lethe_cuda_probe_status(void) {
    std::call_once(probe_once, probe);
    return probe_status;
}

const char *lethe_status_string(int status) {
    switch (status) {
        case LETHE_OK: return "ok";
        case LETHE_E_ARGUMENT: return "invalid argument (null handle, negative size or lists of different shapes)";
        case LETHE_E_NO_DEVICE: return "no CUDA device";
        case LETHE_E_ALLOC: return "host allocation failed";
        case LETHE_E_CHECK: return "a device helper check failed";
        default: return cudaGetErrorString(static_cast<cudaError_t>(status));
    }
}

int lethe_cuda_runtime_version(void) { return CUDART_VERSION; }

int lethe_ctx_create(int device, long long *ctx_out) {
    if (!ctx_out) return LETHE_E_ARGUMENT;
    *ctx_out = 0;
    if (lethe_cuda_device_count() <= device || device < 0) return LETHE_E_NO_DEVICE;
    cudaError_t err = cudaSetDevice(device);
    if (err != cudaSuccess) return err;
    Ctx *ctx = new (std::nothrow) Ctx();
    if (!ctx) return LETHE_E_ALLOC;
    ctx->device = device;
    cudaDeviceGetAttribute(&ctx->sm_count, cudaDevAttrMultiProcessorCount, device);
    if ((err = cudaStreamCreateWithFlags(&ctx->own_stream, cudaStreamNonBlocking)) != cudaSuccess ||
        (err = cudaEventCreate(&ctx->mark_start)) != cudaSuccess ||
        (err = cudaEventCreate(&ctx->mark_stop)) != cudaSuccess ||
        (err = cudaMalloc(&ctx->d_counter, sizeof(unsigned long long))) != cudaSuccess ||
        (err = cudaMalloc(&ctx->d_gradient_non_finite, sizeof(unsigned long long))) != cudaSuccess ||
        (err = cudaMemsetAsync(ctx->d_gradient_non_finite, 0, sizeof(unsigned long long), ctx->own_stream)) != cudaSuccess ||
        (err = cudaMalloc(&ctx->d_histogram, sizeof(unsigned long long) << lethe::kMaxHistogramBits)) != cudaSuccess ||
        (err = lethe::ensure_per_tensor(ctx, 64)) != cudaSuccess) {
        lethe_ctx_destroy(reinterpret_cast<long long>(ctx));
        return err;
    }
    ctx->stream = ctx->own_stream;
    *ctx_out = reinterpret_cast<long long>(ctx);
    if ((err = static_cast<cudaError_t>(lethe_reset_counter(*ctx_out))) != cudaSuccess) return err;
    /* the zeroed counters must be visible to work on any stream the context is later pointed at */
    return cudaStreamSynchronize(ctx->own_stream);
}

int lethe_ctx_destroy(long long handle) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx) return LETHE_OK;
    cudaSetDevice(ctx->device);
    if (ctx->own_stream) cudaStreamSynchronize(ctx->own_stream);
    cudaFree(ctx->d_counter);
    cudaFree(ctx->d_gradient_non_finite);
    cudaFree(ctx->d_histogram);
    cudaFree(ctx->d_sums);
    cudaFree(ctx->d_max_keys);
    cudaFree(ctx->d_non_finite);
    cudaFree(ctx->d_values);
    cudaFree(ctx->d_flags);
    if (ctx->mark_start) cudaEventDestroy(ctx->mark_start);
    if (ctx->mark_stop) cudaEventDestroy(ctx->mark_stop);
    if (ctx->own_stream) cudaStreamDestroy(ctx->own_stream);
    delete ctx;
    return LETHE_OK;
}

int lethe_ctx_describe(long long handle, char *buf, int buf_len) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx || !buf || buf_len <= 0) return LETHE_E_ARGUMENT;
    cudaDeviceProp prop;
    cudaError_t err = cudaGetDeviceProperties(&prop, ctx->device);
    if (err != cudaSuccess) return err;
    std::snprintf(buf, static_cast<size_t>(buf_len), "%s (sm_%d%d, %d SMs, %.1f GiB)", prop.name, prop.major,
                  prop.minor, prop.multiProcessorCount, prop.totalGlobalMem / 1073741824.0);
    return LETHE_OK;
}

int lethe_ctx_set_stream(long long handle, long long stream) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx) return LETHE_E_ARGUMENT;
    ctx->stream = stream ? reinterpret_cast<cudaStream_t>(stream) : ctx->own_stream;
    return LETHE_OK;
}

int lethe_ctx_use_external_stream(long long handle, long long stream) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx) return LETHE_E_ARGUMENT;
    ctx->stream = reinterpret_cast<cudaStream_t>(stream); /* 0 is the legacy default stream here */
    return LETHE_OK;
}

int lethe_ctx_synchronize(long long handle) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx) return LETHE_E_ARGUMENT;
    return cudaStreamSynchronize(ctx->stream);
}

int lethe_malloc(long long handle, long long bytes, long long *device_ptr_out) {
    if (!lethe::ctx_of(handle) || !device_ptr_out || bytes < 0) return LETHE_E_ARGUMENT;
    void *p = nullptr;
    cudaError_t err = cudaMalloc(&p, static_cast<size_t>(std::max(bytes, 4LL)));
    *device_ptr_out = reinterpret_cast<long long>(p);
    return err;
}

int lethe_free(long long handle, long long device_ptr) {
    if (!lethe::ctx_of(handle)) return LETHE_E_ARGUMENT;
    return cudaFree(reinterpret_cast<void *>(device_ptr));
}

int lethe_memcpy_h2d(long long handle, long long dst, const float *src, long long count) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx || count < 0) return LETHE_E_ARGUMENT;
    if (count == 0) return LETHE_OK;
    cudaError_t err = cudaMemcpyAsync(reinterpret_cast<void *>(dst), src, sizeof(float) * count,
                                      cudaMemcpyHostToDevice, ctx->stream);
    /* src is pageable Java memory that the caller may release on return. */
    return err != cudaSuccess ? err : cudaStreamSynchronize(ctx->stream);
}

int lethe_memcpy_d2h(long long handle, float *dst, long long src, long long count) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx || count < 0) return LETHE_E_ARGUMENT;
    if (count == 0) return LETHE_OK;
    cudaError_t err = cudaMemcpyAsync(dst, reinterpret_cast<const void *>(src), sizeof(float) * count,
                                      cudaMemcpyDeviceToHost, ctx->stream);
    return err != cudaSuccess ? err : cudaStreamSynchronize(ctx->stream);
}

int lethe_memcpy_d2d(long long handle, long long dst, long long src, long long bytes) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx || bytes < 0) return LETHE_E_ARGUMENT;
    if (bytes == 0) return LETHE_OK;
    return cudaMemcpyAsync(reinterpret_cast<void *>(dst), reinterpret_cast<const void *>(src),
                           static_cast<size_t>(bytes), cudaMemcpyDeviceToDevice, ctx->stream);
}

int lethe_memset_zero(long long handle, long long dst, long long bytes) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx || bytes < 0) return LETHE_E_ARGUMENT;
    if (bytes == 0) return LETHE_OK;
    return cudaMemsetAsync(reinterpret_cast<void *>(dst), 0, static_cast<size_t>(bytes), ctx->stream);
}

int lethe_timer_start(long long handle) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx) return LETHE_E_ARGUMENT;
    return cudaEventRecord(ctx->mark_start, ctx->stream);
}

int lethe_timer_stop(long long handle, float *elapsed_ms_out) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx || !elapsed_ms_out) return LETHE_E_ARGUMENT;
    cudaError_t err = cudaEventRecord(ctx->mark_stop, ctx->stream);
    if (err == cudaSuccess) err = cudaEventSynchronize(ctx->mark_stop);
    if (err == cudaSuccess) err = cudaEventElapsedTime(elapsed_ms_out, ctx->mark_start, ctx->mark_stop);
    return err;
}

int lethe_ctx_peak_bandwidth(long long handle, double *bytes_per_second_out) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx || !bytes_per_second_out) return LETHE_E_ARGUMENT;
    *bytes_per_second_out = 0.0;
    int clock_khz = 0, bus_bits = 0;
    /* Attributes, not cudaDeviceProp fields: CUDA 13 removed memoryClockRate from the struct. */
    if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, ctx->device) != cudaSuccess ||
        cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, ctx->device) != cudaSuccess) {
        cudaGetLastError();
        return LETHE_OK;
    }
    *bytes_per_second_out = 2.0 * clock_khz * 1e3 * (bus_bits / 8.0);
    return LETHE_OK;
}

int lethe_nvtx_push(const char *name) {
    if (!name) return LETHE_E_ARGUMENT;
    nvtxRangePushA(name);
    return LETHE_OK;
}

int lethe_nvtx_pop(void) {
    nvtxRangePop();
    return LETHE_OK;
}

int lethe_list_create(long long handle, const long long *device_ptrs, const long long *sizes, int count,
                      long long *list_out) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx || !list_out || count < 0 || (count > 0 && (!device_ptrs || !sizes))) return LETHE_E_ARGUMENT;
    *list_out = 0;
    List *list = new (std::nothrow) List();
    if (!list) return LETHE_E_ALLOC;
    list->ctx = ctx;
    list->count = count;
    list->sizes.assign(sizes, sizes + count);
    std::vector<long long> tile_start(static_cast<size_t>(count) + 1, 0);
    for (int t = 0; t < count; ++t) {
        if (sizes[t] < 0) {
            delete list;
            return LETHE_E_ARGUMENT;
        }
        tile_start[t + 1] = tile_start[t] + (sizes[t] + lethe::kTile - 1) / lethe::kTile;
    }
    list->tiles = tile_start[count];
    size_t n = static_cast<size_t>(std::max(count, 1));
    cudaError_t err;
    if ((err = cudaMalloc(&list->d_ptrs, sizeof(float *) * n)) != cudaSuccess ||
        (err = cudaMalloc(&list->d_sizes, sizeof(long long) * n)) != cudaSuccess ||
        (err = cudaMalloc(&list->d_tile_start, sizeof(long long) * (n + 1))) != cudaSuccess ||
        (count > 0 &&
         ((err = cudaMemcpyAsync(list->d_ptrs, device_ptrs, sizeof(float *) * count, cudaMemcpyHostToDevice,
                                 ctx->stream)) != cudaSuccess ||
          (err = cudaMemcpyAsync(list->d_sizes, sizes, sizeof(long long) * count, cudaMemcpyHostToDevice,
                                 ctx->stream)) != cudaSuccess)) ||
        (err = cudaMemcpyAsync(list->d_tile_start, tile_start.data(), sizeof(long long) * (count + 1),
                               cudaMemcpyHostToDevice, ctx->stream)) != cudaSuccess ||
        (err = cudaStreamSynchronize(ctx->stream)) != cudaSuccess) {
        lethe_list_destroy(reinterpret_cast<long long>(list));
        return err;
    }
    *list_out = reinterpret_cast<long long>(list);
    return LETHE_OK;
}

int lethe_list_destroy(long long handle) {
    List *list = lethe::list_of(handle);
    if (!list) return LETHE_OK;
    cudaFree(list->d_ptrs);
    cudaFree(list->d_sizes);
    cudaFree(list->d_tile_start);
    delete list;
    return LETHE_OK;
}

int lethe_reset_counter(long long handle) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx) return LETHE_E_ARGUMENT;
    return cudaMemsetAsync(ctx->d_counter, 0, sizeof(unsigned long long), ctx->stream);
}

int lethe_read_counter(long long handle, long long *value_out) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx || !value_out) return LETHE_E_ARGUMENT;
    unsigned long long v = 0;
    cudaError_t err = cudaMemcpyAsync(&v, ctx->d_counter, sizeof(v), cudaMemcpyDeviceToHost, ctx->stream);
    if (err == cudaSuccess) err = cudaStreamSynchronize(ctx->stream);
    *value_out = static_cast<long long>(v);
    return err;
}

int lethe_take_gradient_non_finite(long long handle, long long *value_out) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx || !value_out) return LETHE_E_ARGUMENT;
    unsigned long long v = 0;
    cudaError_t err = cudaMemcpyAsync(&v, ctx->d_gradient_non_finite, sizeof(v), cudaMemcpyDeviceToHost, ctx->stream);
    if (err == cudaSuccess) err = cudaMemsetAsync(ctx->d_gradient_non_finite, 0, sizeof(v), ctx->stream);
    if (err == cudaSuccess) err = cudaStreamSynchronize(ctx->stream);
    *value_out = static_cast<long long>(v);
    return err;
}

int lethe_read_histogram(long long handle, long long *bins_out, int bins) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx || !bins_out || bins <= 0 || bins > (1 << lethe::kMaxHistogramBits)) return LETHE_E_ARGUMENT;
    cudaError_t err = cudaMemcpyAsync(bins_out, ctx->d_histogram, sizeof(long long) * bins, cudaMemcpyDeviceToHost,
                                      ctx->stream);
    return err != cudaSuccess ? err : cudaStreamSynchronize(ctx->stream);
}

int lethe_read_tensor_values(long long handle, float *values_out, int count) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx || !values_out || count < 0 || count > ctx->per_tensor_capacity) return LETHE_E_ARGUMENT;
    if (count == 0) return LETHE_OK;
    cudaError_t err =
        cudaMemcpyAsync(values_out, ctx->d_values, sizeof(float) * count, cudaMemcpyDeviceToHost, ctx->stream);
    return err != cudaSuccess ? err : cudaStreamSynchronize(ctx->stream);
}

int lethe_read_stats(long long handle, double *sums_out, float *max_out, long long *non_finite_out, int count) {
    Ctx *ctx = lethe::ctx_of(handle);
    if (!ctx || !sums_out || !max_out || !non_finite_out || count < 0 || count > ctx->per_tensor_capacity)
        return LETHE_E_ARGUMENT;
    if (count == 0) return LETHE_OK;
    std::vector<int> keys(static_cast<size_t>(count));
    cudaError_t err;
    if ((err = cudaMemcpyAsync(sums_out, ctx->d_sums, sizeof(double) * count, cudaMemcpyDeviceToHost,
                               ctx->stream)) != cudaSuccess ||
        (err = cudaMemcpyAsync(keys.data(), ctx->d_max_keys, sizeof(int) * count, cudaMemcpyDeviceToHost,
                               ctx->stream)) != cudaSuccess ||
        (err = cudaMemcpyAsync(non_finite_out, ctx->d_non_finite, sizeof(long long) * count,
                               cudaMemcpyDeviceToHost, ctx->stream)) != cudaSuccess ||
        (err = cudaStreamSynchronize(ctx->stream)) != cudaSuccess)
        return err;
    for (int t = 0; t < count; ++t) {
        int k = keys[t];
        int bits = k >= 0 ? k : k ^ 0x7fffffff;
        std::memcpy(&max_out[t], &bits, sizeof(float));
    }
    return LETHE_OK;
}

}  // extern "C"
