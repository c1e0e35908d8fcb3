/* Element-wise helpers over tensor lists: fill, scale, y += a*x, dst = src / d, and a plain copy (the bandwidth
 * baseline that the benchmarks compare kernels against). Java reference: ScalarKernels. */
#include "multi_tensor.cuh"

namespace {

struct Fill {
    static constexpr int kWriteMask = 1;
    static constexpr bool kCounts = false;
    float value;
    __device__ int apply(float (&v)[1]) const { v[0] = value; return 0; }
};

struct Scale {
    static constexpr int kWriteMask = 1;
    static constexpr bool kCounts = false;
    float a;
    __device__ int apply(float (&v)[1]) const { v[0] = __fmul_rn(v[0], a); return 0; }
};

/* lists: y, x */
struct ScaleAdd {
    static constexpr int kWriteMask = 1;
    static constexpr bool kCounts = false;
    float a;
    __device__ int apply(float (&v)[2]) const { v[0] = __fadd_rn(v[0], __fmul_rn(a, v[1])); return 0; }
};

/* lists: dst, src. __fdiv_rn: IEEE division, as the host divides a sum by its count */
struct Divide {
    static constexpr int kWriteMask = 1;
    static constexpr bool kCounts = false;
    float divisor;
    __device__ int apply(float (&v)[2]) const { v[0] = __fdiv_rn(v[1], divisor); return 0; }
};

/* lists: dst, src */
struct Copy {
    static constexpr int kWriteMask = 1;
    static constexpr bool kCounts = false;
    __device__ int apply(float (&v)[2]) const { v[0] = v[1]; return 0; }
};

}  // namespace

extern "C" int lethe_fill(long long ctx, long long x, float value) {
    lethe::List *l = lethe::list_of(x);
    if (!lethe::ctx_of(ctx) || !l) return LETHE_E_ARGUMENT;
    const lethe::List *lists[1] = {l};
    return lethe::launch_apply(lethe::ctx_of(ctx), lists, Fill{value});
}

extern "C" int lethe_scale(long long ctx, long long x, float a) {
    lethe::List *l = lethe::list_of(x);
    if (!lethe::ctx_of(ctx) || !l) return LETHE_E_ARGUMENT;
    const lethe::List *lists[1] = {l};
    return lethe::launch_apply(lethe::ctx_of(ctx), lists, Scale{a});
}

extern "C" int lethe_scale_add(long long ctx, long long y, long long x, float a) {
    if (!lethe::ctx_of(ctx) || !y || !x) return LETHE_E_ARGUMENT;
    const lethe::List *lists[2] = {lethe::list_of(y), lethe::list_of(x)};
    return lethe::launch_apply(lethe::ctx_of(ctx), lists, ScaleAdd{a});
}

extern "C" int lethe_divide(long long ctx, long long dst, long long src, float divisor) {
    if (!lethe::ctx_of(ctx) || !dst || !src) return LETHE_E_ARGUMENT;
    const lethe::List *lists[2] = {lethe::list_of(dst), lethe::list_of(src)};
    return lethe::launch_apply(lethe::ctx_of(ctx), lists, Divide{divisor});
}

extern "C" int lethe_copy(long long ctx, long long dst, long long src) {
    if (!lethe::ctx_of(ctx) || !dst || !src) return LETHE_E_ARGUMENT;
    const lethe::List *lists[2] = {lethe::list_of(dst), lethe::list_of(src)};
    return lethe::launch_apply(lethe::ctx_of(ctx), lists, Copy{});
}
