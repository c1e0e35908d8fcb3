/* SGD with momentum and weight decay, PyTorch's semantics (dampening 0, no Nesterov), optionally masked:
 *   d = g + wd*theta;  d = d*mask;  v = mu*v + d;  theta = theta - lr*v
 * 20 bytes per element unmasked (read theta, v, g; write theta, v), 24 masked. With a 0/1 mask, elements
 * outside it keep theta and v unchanged (v starts at 0). Java reference: ScalarKernels.sgdStep. */
#include "multi_tensor.cuh"

namespace {

__device__ __forceinline__ void step(float &theta, float &v, float g, float mask, float lr, float mu, float wd) {
    float d = __fadd_rn(g, __fmul_rn(wd, theta));
    d = __fmul_rn(d, mask);
    v = __fadd_rn(__fmul_rn(mu, v), d);
    theta = __fsub_rn(theta, __fmul_rn(lr, v));
}

/* lists: theta, velocity, grad */
struct SgdStep {
    static constexpr int kWriteMask = 0b11;
    static constexpr bool kCounts = false;
    float lr, mu, wd;
    __device__ int apply(float (&x)[3]) const { step(x[0], x[1], x[2], 1.0f, lr, mu, wd); return 0; }
};

/* lists: theta, velocity, grad, mask */
struct MaskedSgdStep {
    static constexpr int kWriteMask = 0b11;
    static constexpr bool kCounts = false;
    float lr, mu, wd;
    __device__ int apply(float (&x)[4]) const { step(x[0], x[1], x[2], x[3], lr, mu, wd); return 0; }
};

}  // namespace

extern "C" int lethe_sgd_step(long long ctx, long long theta, long long velocity, long long grad, long long mask, float lr,
                              float momentum, float weight_decay) {
    if (!lethe::ctx_of(ctx) || !theta || !velocity || !grad) return LETHE_E_ARGUMENT;
    if (mask) {
        const lethe::List *lists[4] = {lethe::list_of(theta), lethe::list_of(velocity), lethe::list_of(grad),
                                       lethe::list_of(mask)};
        return lethe::launch_apply(lethe::ctx_of(ctx), lists, MaskedSgdStep{lr, momentum, weight_decay});
    }
    const lethe::List *lists[3] = {lethe::list_of(theta), lethe::list_of(velocity), lethe::list_of(grad)};
    return lethe::launch_apply(lethe::ctx_of(ctx), lists, SgdStep{lr, momentum, weight_decay});
}
