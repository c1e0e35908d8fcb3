/* Selective Synaptic Dampening (docs/algorithms.md, sections 3.1 and 5.4):
 *   selected  <=>  iF > alpha * iD          (strict; NaN never selects)
 *   theta     <-   theta * min(lambda * iD / iF, 1)   for selected elements only
 * iD = 0 < iF gives a factor of 0 (the weight is zeroed); unselected elements are never divided.
 * 16 bytes per element. Java reference: ScalarKernels.ssdDampen. */
#include "multi_tensor.cuh"

namespace {

/* lists: theta, importance_full (iD), importance_forget (iF) */
struct SsdDampen {
    static constexpr int kWriteMask = 1;
    static constexpr bool kCounts = true;
    float alpha, lambda;
    __device__ int apply(float (&v)[3]) const {
        float i_d = v[1], i_f = v[2];
        if (!(i_f > __fmul_rn(i_d, alpha))) return 0;
        float beta = __fdiv_rn(__fmul_rn(i_d, lambda), i_f);
        beta = beta > 1.0f ? 1.0f : beta; /* keeps NaN, as torch.clamp does */
        v[0] = __fmul_rn(v[0], beta);
        return 1;
    }
};

}  // namespace

extern "C" int lethe_ssd_dampen(long long ctx, long long theta, long long importance_full,
                                long long importance_forget, float alpha, float lambda) {
    if (!lethe::ctx_of(ctx) || !theta || !importance_full || !importance_forget) return LETHE_E_ARGUMENT;
    const lethe::List *lists[3] = {lethe::list_of(theta), lethe::list_of(importance_full),
                                   lethe::list_of(importance_forget)};
    return lethe::launch_apply(lethe::ctx_of(ctx), lists, SsdDampen{alpha, lambda});
}
