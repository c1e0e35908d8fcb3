package ai.lethe.kernels.check;

import static ai.lethe.kernels.check.KernelMismatch.expectEqual;

import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;

/** The per-element rules of ALGORITHMS.md on hand-picked values, for any back end (the reference included). */
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

    public static void ratioShiftSanitisesLikeTheReference(Kernels kernels) {
        // d = log fF − log fR: ln(e^2)=2 (finite max), 0/0 → NaN → 0, 1/0 → +inf → 2, 0/1 → −inf → 2
        float e2 = (float) Math.exp(2);
        float[] fF = {e2, 0f, 1f, 0f, 1f};
        float[] fR = {1f, 0f, 0f, 1f, 1f};
        float[] w = {0f, 0f, 0f, 0f, 0f};
        try (TensorList dw = kernels.upload(w); TensorList df = kernels.upload(fF); TensorList dr = kernels.upload(fR)) {
            float[] alpha = kernels.ratioShift(dw, df, dr, 1f, 1f, 10f);
            float maxEta = (float) Math.exp(2);
            float expectedAlpha = Math.min(1f, 10f / maxEta);
            expectEqual(expectedAlpha, alpha[0], expectedAlpha * 2e-5, "alpha_l");
            float[] got = kernels.download(dw)[0];
            float[] eta = {maxEta, 1f, maxEta, maxEta, 1f};
            for (int j = 0; j < eta.length; j++) {
                expectEqual(expectedAlpha * eta[j], got[j], 1e-5 * Math.abs(expectedAlpha * eta[j]), "element " + j);
            }
        }
    }

    /**
     * η = fF / fR within two ulps where the ratio is close to 1 and the Fisher values are tiny (1e-38 … 1e-16,
     * where the Mnemonic FIM lives): the rule computes d = ln fF − ln fR in double. The fp32 rule it replaced
     * (two logf of about −40 … −87, one ulp 4e-6 … 8e-6, subtracted) is off by up to 1.5e-5 here.
     */
    public static void ratioShiftComputesTheLogRatioInDouble(Kernels kernels) {
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
                expectEqual(quotient, got[j], 2 * Math.ulp(quotient),
                        "eta of fF = " + fF[j] + ", fR = " + fR[j] + " (w starts at 0, alpha_l = 1)");
            }
        }
    }
}
