package ai.lethe.kernels;

/**
 * The scalar pieces of the Mnemonic update ({@link Kernels#ratioShift}), shared by the CPU back ends so
 * that they classify, sanitise and pick alpha_l exactly alike. Mirrors cuda-kernels/ratio_shift.cu.
 *
 * <p>The reference computes η = exp(d) with d = log fF − log fR in fp32. Mathematically η is the quotient
 * fF / fR, and that is what every back end computes: in double (a quotient of two floats is always finite and
 * nonzero there) and rounded once to float. IEEE division is correctly rounded on the JVM, in the Vector API and
 * on CUDA, so the back ends agree bit for bit — where the fp32 logarithms did not: two logs of about −88
 * (Fisher values near 1e-38) subtracted lose everything below 8e-6, and a one-ulp difference between CUDA's
 * logf and Java's Math.log became a 2.4e-5 relative error in η.
 *
 * <p>d's special values keep the reference's rules, decided from the inputs: d is NaN when an input is NaN or
 * negative, or both are 0 or both +inf (η becomes exp(0) = 1); d is ±inf when exactly one input is 0 or +inf (η
 * becomes the largest finite η of the tensor, or 1 when it has none); otherwise d is finite and η = fF / fR.
 */
final class MnemonicMath {

    /** d is finite: η = fF / fR. */
    static final int FINITE = 0;
    /** d is NaN: η = 1. */
    static final int NAN = 1;
    /** d is ±inf: η = the tensor's largest finite η (1 if none). */
    static final int INFINITE = 2;

    private MnemonicMath() {
    }

    /** The class of d = ln fF − ln fR. */
    static int classify(float fisherForget, float fisherRetain) {
        if (!(fisherForget >= 0f) || !(fisherRetain >= 0f)) {
            return NAN; // NaN or negative (−0.0 is not negative: ln −0 = −inf)
        }
        double q = (double) fisherForget / fisherRetain;
        if (Double.isNaN(q)) {
            return NAN; // 0/0 and inf/inf: −inf − −inf, inf − inf
        }
        return q == 0 || Double.isInfinite(q) ? INFINITE : FINITE;
    }

    /** η of a pair whose d is finite: fF / fR in double, rounded once to float. */
    static float quotient(float fisherForget, float fisherRetain) {
        return (float) ((double) fisherForget / fisherRetain);
    }

    /** The η that replaces d = ±inf: the largest finite η, or 1 (d = 0) when the tensor has none. */
    static float infFill(float maxFiniteEta) {
        return maxFiniteEta == Float.NEGATIVE_INFINITY ? 1f : maxFiniteEta;
    }

    /** η after the reference's sanitising of d. */
    static float eta(float fisherForget, float fisherRetain, float infFill) {
        return switch (classify(fisherForget, fisherRetain)) {
            case NAN -> 1f;
            case INFINITE -> infFill;
            default -> quotient(fisherForget, fisherRetain);
        };
    }

    /** alpha_l = min(lambda1, lambda2 / max η), max η over the sanitised η of the tensor. */
    static float alpha(float maxFiniteEta, boolean sawNaN, boolean sawInf, float lambda1, float lambda2) {
        float maxEta = maxFiniteEta;
        if (sawNaN && 1f > maxEta) {
            maxEta = 1f;
        }
        float fill = infFill(maxFiniteEta);
        if (sawInf && fill > maxEta) {
            maxEta = fill;
        }
        float limit = maxEta == Float.NEGATIVE_INFINITY ? lambda1 : lambda2 / maxEta;
        return lambda1 < limit ? lambda1 : limit;
    }
}
