/* DeepClean reset: r = iF / (iR + eps); where r > gamma the weight is set to 0 and the mask to 1,
 * elsewhere the mask is 0. Counts the reset elements. Java reference: ScalarKernels.ratioReset. */
#include "multi_tensor.cuh"

namespace {

/* lists: theta, mask, importance_forget, importance_retain */
struct RatioReset {
    static constexpr int kWriteMask = 0b11;
    static constexpr bool kCounts = true;
    float eps, gamma;
    __device__ int apply(float (&v)[4]) const {
        float r = __fdiv_rn(v[2], __fadd_rn(v[3], eps));
        bool reset = r > gamma;
        v[0] = reset ? 0.0f : v[0];
        v[1] = reset ? 1.0f : 0.0f;
        return reset ? 1 : 0;
    }
};

}  // namespace

extern "C" int lethe_ratio_reset(long long ctx, long long theta, long long mask, long long importance_forget,
                                 long long importance_retain, float eps, float gamma) {
    if (!lethe::ctx_of(ctx) || !theta || !mask || !importance_forget || !importance_retain)
        return LETHE_E_ARGUMENT;
    const lethe::List *lists[4] = {lethe::list_of(theta), lethe::list_of(mask), lethe::list_of(importance_forget),
                                   lethe::list_of(importance_retain)};
    return lethe::launch_apply(lethe::ctx_of(ctx), lists, RatioReset{eps, gamma});
}
