package ai.lethe.kernels;

/**
 * The scalar pieces of the Mnemonic update ({@link Kernels#ratioShift}), shared by the CPU back ends so
 * that they sanitise NaN/±inf and pick alpha_l exactly alike. Mirrors cuda-kernels/ratio_shift.cu.
 */
final class MnemonicMath {

    private MnemonicMath() {
    }

    /** d = log fF − log fR in fp32 (each log rounded to float, as torch.log on float tensors). */
    static float logRatio(float fisherForget, float fisherRetain) {
        return (float) Math.log(fisherForget) - (float) Math.log(fisherRetain);
    }

    static float exp(float d) {
        return (float) Math.exp(d);
    }

    /** The value that replaces ±inf: the largest finite d, or 0 when the tensor has none. */
    static float infFill(float maxFinite) {
        return maxFinite == Float.NEGATIVE_INFINITY ? 0f : maxFinite;
    }

    /** NaN → 0, ±inf → infFill (the reference code's rule), else d. */
    static float sanitize(float d, float infFill) {
        if (Float.isNaN(d)) {
            return 0f;
        }
        return Float.isInfinite(d) ? infFill : d;
    }

    /** alpha_l = min(lambda1, lambda2 / max eta), where max eta = exp(max sanitised d). */
    static float alpha(float maxFinite, boolean sawNaN, boolean sawInf, float lambda1, float lambda2) {
        float maxD = maxFinite;
        if (sawNaN && 0f > maxD) {
            maxD = 0f;
        }
        float fill = infFill(maxFinite);
        if (sawInf && fill > maxD) {
            maxD = fill;
        }
        float limit = maxD == Float.NEGATIVE_INFINITY ? lambda1 : lambda2 / exp(maxD);
        return lambda1 < limit ? lambda1 : limit;
    }
}
