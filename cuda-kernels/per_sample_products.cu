/* Per-sample gradients of a convolution, squared (or absolute) and summed over samples, fused:
 *   acc[r][c] += sum_n f( sum_p g[n][r][p] * u[n][c][p] ),  f(w) = w*w or |w|
 * g is the gradient at the layer's output (rows = output channels, p = output positions), u the unfolded
 * input (cols = in_channels*kh*kw). Each block owns a kTile x kTile tile of acc and a slice of the samples:
 * per sample it forms that tile of W_n in registers from shared-memory tiles of g and u, and its epilogue
 * squares and accumulates in registers, so no per-sample gradient ever reaches global memory. The block's
 * partial sum is added to acc with one atomicAdd per element. Traffic: g and u read once per tile row/column
 * of acc (ceil(cols/kTile) and ceil(rows/kTile) times), acc read and written once.
 * fp32 throughout (built with -fmad=false); the order of the sums differs from the Java reference, which
 * sums in double, so results agree within the reduction tolerance of KernelChecks, not bit for bit.
 * Java reference: ScalarKernels.accumulatePerSampleProducts. */
#include <algorithm>

#include "lethe_internal.h"

namespace {

constexpr int kTile = 32;      /* acc tile: kTile x kTile elements per block */
constexpr int kDepth = 32;     /* positions per shared-memory step */
constexpr int kSide = 16;      /* threads per side: 16 x 16 = 256 threads, 2 x 2 outputs each */
constexpr int kPer = kTile / kSide;

__global__ void per_sample_products_kernel(float *__restrict__ acc, const float *__restrict__ g,
                                           const float *__restrict__ u, int samples, int rows, int cols,
                                           int positions, int samples_per_block, bool absolute) {
    __shared__ float gs[kTile][kDepth + 1];
    __shared__ float us[kTile][kDepth + 1];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int tid = ty * kSide + tx;
    const int row0 = blockIdx.y * kTile, col0 = blockIdx.x * kTile;
    const int n_begin = blockIdx.z * samples_per_block;
    const int n_end = min(samples, n_begin + samples_per_block);

    float total[kPer][kPer];
    for (int a = 0; a < kPer; a++)
        for (int b = 0; b < kPer; b++) total[a][b] = 0.f;

    for (int n = n_begin; n < n_end; n++) {
        const float *gn = g + static_cast<long long>(n) * rows * positions;
        const float *un = u + static_cast<long long>(n) * cols * positions;
        float w[kPer][kPer];
        for (int a = 0; a < kPer; a++)
            for (int b = 0; b < kPer; b++) w[a][b] = 0.f;
        for (int p0 = 0; p0 < positions; p0 += kDepth) {
            /* 256 threads load a 32 x 32 tile of each operand, consecutive threads along positions. */
            for (int k = tid; k < kTile * kDepth; k += kSide * kSide) {
                const int r = k / kDepth, p = k % kDepth;
                const bool in_p = p0 + p < positions;
                gs[r][p] = (row0 + r < rows && in_p) ? gn[static_cast<long long>(row0 + r) * positions + p0 + p] : 0.f;
                us[r][p] = (col0 + r < cols && in_p) ? un[static_cast<long long>(col0 + r) * positions + p0 + p] : 0.f;
            }
            __syncthreads();
            const int depth = min(kDepth, positions - p0);
            for (int p = 0; p < depth; p++) {
                for (int a = 0; a < kPer; a++) {
                    const float gv = gs[ty + a * kSide][p];
                    for (int b = 0; b < kPer; b++) w[a][b] = __fadd_rn(w[a][b], __fmul_rn(gv, us[tx + b * kSide][p]));
                }
            }
            __syncthreads();
        }
        /* Epilogue: the per-sample gradient lives only in these registers. */
        for (int a = 0; a < kPer; a++)
            for (int b = 0; b < kPer; b++)
                total[a][b] = __fadd_rn(total[a][b], absolute ? fabsf(w[a][b]) : __fmul_rn(w[a][b], w[a][b]));
    }
    for (int a = 0; a < kPer; a++) {
        const int r = row0 + ty + a * kSide;
        for (int b = 0; b < kPer; b++) {
            const int c = col0 + tx + b * kSide;
            if (r < rows && c < cols && n_begin < n_end) atomicAdd(acc + static_cast<long long>(r) * cols + c, total[a][b]);
        }
    }
}

}  // namespace

extern "C" int lethe_per_sample_products(long long ctx_handle, long long acc, long long g, long long u, int samples,
                                         int rows, int cols, int positions, int absolute) {
    lethe::Ctx *ctx = lethe::ctx_of(ctx_handle);
    if (!ctx || samples < 0 || rows < 0 || cols < 0 || positions < 0) return LETHE_E_ARGUMENT;
    /* Nothing to add (every W_n is empty or zero); empty operands may come as null addresses. */
    if (samples == 0 || rows == 0 || cols == 0 || positions == 0) return LETHE_OK;
    if (!acc || !g || !u) return LETHE_E_ARGUMENT;
    const int tiles_x = (cols + kTile - 1) / kTile, tiles_y = (rows + kTile - 1) / kTile;
    /* Split the samples so that small layers (few acc tiles) still fill the device: about 4 blocks per SM. */
    const long long tiles = static_cast<long long>(tiles_x) * tiles_y;
    const long long wanted = std::max(1LL, static_cast<long long>(ctx->sm_count) * 4 / tiles);
    const int slices = static_cast<int>(std::min<long long>(std::min<long long>(samples, wanted), 65535));
    const int per_block = (samples + slices - 1) / slices;
    const int grid_z = (samples + per_block - 1) / per_block;
    dim3 grid(tiles_x, tiles_y, grid_z);
    dim3 block(kSide, kSide);
    per_sample_products_kernel<<<grid, block, 0, ctx->stream>>>(
        reinterpret_cast<float *>(acc), reinterpret_cast<const float *>(g), reinterpret_cast<const float *>(u), samples,
        rows, cols, positions, per_block, absolute != 0);
    return LETHE_LAUNCH_STATUS();
}
