package ai.lethe.kernels.check;

import static ai.lethe.kernels.check.KernelMismatch.expectEqual;

import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;

/** The per-element rules of docs/algorithms.md (section 5) on hand-picked values, for any back end (the reference included). */
public final class KernelRules {

    private KernelRules() {
    }

    public static void ssdDampenFollowsTheRule(Kernels kernels) {
        float alpha = 2f;
        float lambda = 1f;
        //                 iD      iF      theta   -> expected theta, selected?
        float[][] cases = {
            {0f, 1f, 5f, 0f, 1},                   // iD = 0 < iF: zeroed
            {1f, 1f, 5f, 5f, 0},                   // ratio 1 <= alpha: untouched
            {1f, 2f, 5f, 5f, 0},                   // iF == alpha*iD: strict, untouched
            {1f, 3f, -4f, -4f * (1f / 3f), 1},     // negative theta keeps its sign, scaled by iD/iF
            {0f, 0f, 7f, 7f, 0},                   // nothing known: untouched, never 0/0
            {Float.NaN, 1f, 7f, 7f, 0},            // NaN never selects
            {1f, Float.NaN, 7f, 7f, 0},
            {Float.MIN_VALUE, 1f, 3f, 3f * (Float.MIN_VALUE / 1f), 1}, // denormal importance
        };
        int n = cases.length;
        float[] iD = new float[n];
        float[] iF = new float[n];
        float[] theta = new float[n];
        long expectedCount = 0;
        for (int i = 0; i < n; i++) {
            iD[i] = cases[i][0];
            iF[i] = cases[i][1];
            theta[i] = cases[i][2];
            expectedCount += (long) cases[i][4];
        }
        try (TensorList dt = kernels.upload(theta); TensorList dd = kernels.upload(iD); TensorList df = kernels.upload(iF)) {
            expectEqual(expectedCount, kernels.ssdDampen(dt, dd, df, alpha, lambda), "ssd rule selected count");
            float[] got = kernels.download(dt)[0];
            for (int i = 0; i < n; i++) {
                expectEqual(cases[i][3], got[i], 0, "ssd rule case " + i);
            }
        }
        // lambda large: the factor clamps at 1, the element still counts as selected
        try (TensorList dt = kernels.upload(new float[] {2f}); TensorList dd = kernels.upload(new float[] {1f});
             TensorList df = kernels.upload(new float[] {3f})) {
            expectEqual(1, kernels.ssdDampen(dt, dd, df, 2f, 100f));
            expectEqual(2f, kernels.download(dt)[0][0]);
        }
    }

    /**
     * The special values of d = ln fF − ln fR, decided as the logarithms decide them: NaN (an input NaN or
     * negative, 0/0, inf/inf) gives η = 1; ±inf (exactly one input 0, −0.0 or +inf) gives the largest finite η;
     * −1/−1 is NaN although the quotient is 1. Exact on every back end.
     */
    public static void ratioShiftSanitisesLikeTheReference(Kernels kernels) {
        float e2 = (float) Math.exp(2);
        float inf = Float.POSITIVE_INFINITY;
        //            fF          fR     η: 0 = the largest finite η (e2), else the value
        float[][] cases = {
            {e2, 1f, e2},          // finite: the largest
            {1f, 1f, 1f},          // finite
            {0f, 0f, 1f},          // −inf − −inf = NaN
            {inf, inf, 1f},        // inf − inf = NaN
            {-1f, 1f, 1f},         // ln of a negative: NaN
            {-1f, -1f, 1f},        // NaN, although fF / fR = 1
            {Float.NaN, 1f, 1f},
            {1f, 0f, 0f},          // +inf
            {0f, 1f, 0f},          // −inf
            {-0f, 1f, 0f},         // ln −0 = −inf
            {1f, -0f, 0f},         // +inf
            {inf, 1f, 0f},         // +inf
            {1f, inf, 0f},         // −inf
        };
        int n = cases.length;
        float[] fF = new float[n];
        float[] fR = new float[n];
        for (int j = 0; j < n; j++) {
            fF[j] = cases[j][0];
            fR[j] = cases[j][1];
        }
        try (TensorList dw = kernels.upload(new float[n]); TensorList df = kernels.upload(fF); TensorList dr = kernels.upload(fR)) {
            float[] alpha = kernels.ratioShift(dw, df, dr, 1f, 1f, 5f);
            float expectedAlpha = 5f / e2; // max η = e2, and 5 / e2 < lambda1 = 1
            expectEqual(expectedAlpha, alpha[0], 0, "alpha_l");
            float[] got = kernels.download(dw)[0];
            for (int j = 0; j < n; j++) {
                float eta = cases[j][2] == 0f ? e2 : cases[j][2];
                expectEqual(expectedAlpha * eta, got[j], 0, "w after fF = " + fF[j] + ", fR = " + fR[j]);
            }
        }
    }

    /**
     * η = fF / fR exactly (the double quotient rounded once to float) where the ratio is close to 1 and the
     * Fisher values are tiny (1e-38 … 1e-16, where the Mnemonic FIM lives). The fp32 rule it replaced
     * (exp(logf fF − logf fR): two logs of about −40 … −87, one ulp 4e-6 … 8e-6, subtracted) is off by up to
     * 1.5e-5 here, which is what failed on the H200.
     */
    public static void ratioShiftEtaIsTheQuotient(Kernels kernels) {
        float[] fR = {2e-38f, 3.3e-37f, 7.1e-30f, 5.5e-25f, 1.7e-20f, 9.9e-17f, 1.3e-16f, 4.2e-18f};
        float[] fF = new float[fR.length];
        for (int j = 0; j < fR.length; j++) {
            fF[j] = fR[j] * (1f + 1e-5f * (j + 1));
        }
        try (TensorList dw = kernels.upload(new float[fR.length]); TensorList df = kernels.upload(fF);
             TensorList dr = kernels.upload(fR)) {
            float[] alpha = kernels.ratioShift(dw, df, dr, 1f, 1f, 1e30f);
            expectEqual(1f, alpha[0], 0, "alpha_l (lambda1 = 1 is the smaller bound)");
            float[] got = kernels.download(dw)[0];
            for (int j = 0; j < fR.length; j++) {
                float quotient = (float) ((double) fF[j] / fR[j]);
                expectEqual(quotient, got[j], 0, "eta of fF = " + fF[j] + ", fR = " + fR[j] + " (w starts at 0, alpha_l = 1)");
            }
        }
    }
}
