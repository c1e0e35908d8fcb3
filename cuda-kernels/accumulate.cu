/* Importance accumulation: acc += scale * g^2 (Fisher diagonal, SSD) and acc += scale * |g| (LFSSD).
 * 12 bytes per element (read acc and g, write acc). Java reference: ScalarKernels.accumulate*.
 * Each kernel also counts the NaN/Inf elements of g into the context's gradient counter (one atomic per block
 * that met one), so a pass checks its gradients with one read-back at its end instead of a stats call per batch. */
#include "multi_tensor.cuh"

namespace {

/* lists: acc, g */
struct AccumulateSquare {
    static constexpr int kWriteMask = 1;
    static constexpr bool kCounts = true;
    float scale;
    __device__ int apply(float (&v)[2]) const {
        v[0] = __fadd_rn(v[0], __fmul_rn(scale, __fmul_rn(v[1], v[1])));
        return isfinite(v[1]) ? 0 : 1;
    }
};

struct AccumulateAbs {
    static constexpr int kWriteMask = 1;
    static constexpr bool kCounts = true;
    float scale;
    __device__ int apply(float (&v)[2]) const {
        v[0] = __fadd_rn(v[0], __fmul_rn(scale, fabsf(v[1])));
        return isfinite(v[1]) ? 0 : 1;
    }
};

template <typename Op>
int accumulate(long long ctx, long long acc, long long g, Op op) {
    if (!lethe::ctx_of(ctx) || !acc || !g) return LETHE_E_ARGUMENT;
    const lethe::List *lists[2] = {lethe::list_of(acc), lethe::list_of(g)};
    lethe::Ctx *c = lethe::ctx_of(ctx);
    return lethe::launch_apply(c, lists, op, c->d_gradient_non_finite);
}

}  // namespace

extern "C" int lethe_accumulate_square(long long ctx, long long acc, long long g, float scale) {
    return accumulate(ctx, acc, g, AccumulateSquare{scale});
}

extern "C" int lethe_accumulate_abs(long long ctx, long long acc, long long g, float scale) {
    return accumulate(ctx, acc, g, AccumulateAbs{scale});
}
