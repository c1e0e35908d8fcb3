package ai.lethe.kernels;

/**
 * The scalar pieces of the Mnemonic update ({@link Kernels#ratioShift}), shared by the CPU back ends so
 * that they sanitise NaN/±inf and pick alpha_l exactly alike. Mirrors cuda-kernels/ratio_shift.cu.
 *
 * <p>The rule every back end follows: d = ln fF − ln fR with both logarithms and the difference in double,
 * rounded once to float; η = exp(d) in double, rounded to float. In float, d = log fF − log fR cancels: the
 * logs of Fisher values near 1e-16…1e-38 are −37…−88, where one ulp is 4e-6…8e-6, and a one-ulp difference
 * between two libraries' logf became a 2.4e-5 relative error in η on the GPU. In double the libraries agree
 * to the float that is returned.
 */
final class MnemonicMath {

    private MnemonicMath() {
    }

    /** d = ln fF − ln fR in double, rounded once to float. */
    static float logRatio(float fisherForget, float fisherRetain) {
        return (float) (Math.log(fisherForget) - Math.log(fisherRetain));
    }

    /** η = exp(d) in double, rounded to float. */
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
