package ai.lethe.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kernel of one back end against {@link ScalarKernels}, on seeded random data of odd sizes, on lists
 * of many tensors of mixed sizes, and on special values; plus the literal per-element rules of the spec.
 *
 * <p>Tolerances, |x − ref| ≤ atol + rtol·|ref|:
 * <ul>
 *   <li>element-wise kernels (copy, fill, scale, scaleAdd, sgdStep, accumulate*, ssdDampen, ratioReset): exact —
 *       every back end performs the same fp32 operations in the same order (CUDA is built with -fmad=false);</li>
 *   <li>counts, histograms and thresholds: exact;</li>
 *   <li>ratioShift: atol 1e-6, rtol 2e-5 — log and exp may differ by an ulp between Math, the Vector API
 *       and CUDA's logf/expf, and d = log fF − log fR amplifies that relative to d;</li>
 *   <li>stats sums: |Δ| ≤ 1e-5·Σ|x| — reductions run in a different order; max and counts are exact.</li>
 * </ul>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class KernelContractTest {

    static final Tolerance SHIFT = new Tolerance(1e-6, 2e-5);
    static final double SUM_RTOL = 1e-5;

    protected final ScalarKernels reference = new ScalarKernels();
    protected Kernels kernels;

    /** The back end under test; called once per test class. */
    protected abstract Kernels createKernels();

    @BeforeAll
    void open() {
        kernels = createKernels();
    }

    @AfterAll
    void close() {
        if (kernels != null) {
            kernels.close();
        }
    }

    /** Single-tensor lists of the odd sizes, then lists of many tensors of mixed sizes. */
    static Stream<Arguments> shapes() {
        List<Arguments> out = new ArrayList<>();
        for (int n : TestData.ODD_SIZES) {
            out.add(Arguments.of("n=" + n, new long[] {n}));
        }
        out.add(Arguments.of("mixed 62 tensors", TestData.mixedSizes(62, 62)));
        out.add(Arguments.of("mixed 200 tensors", TestData.mixedSizes(200, 200)));
        out.add(Arguments.of("odd sizes together", Arrays.stream(TestData.ODD_SIZES).asLongStream().toArray()));
        return out.stream();
    }

    private static SplittableRandom random(String name, String kernel) {
        return new SplittableRandom((name + "/" + kernel).hashCode());
    }

    // ---- element-wise helpers -------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void copyFillScaleScaleAdd(String name, long[] sizes) {
        SplittableRandom r = random(name, "elementwise");
        float[][] x = TestData.signedList(r, sizes);
        float[][] y = TestData.signedList(r, sizes);

        float[][] refY = TestData.deepCopy(y);
        reference.scaleAdd(HostTensors.wrap(refY), HostTensors.wrap(x), -0.731f);
        float[][] refX = TestData.deepCopy(x);
        reference.scale(HostTensors.wrap(refX), 3.3f);

        try (TensorList dx = kernels.upload(x); TensorList dy = kernels.upload(y); TensorList dc = kernels.allocate(sizes)) {
            kernels.scaleAdd(dy, dx, -0.731f);
            Tolerance.EXACT.assertClose("scaleAdd", refY, kernels.download(dy));
            kernels.copy(dx, dc);
            Tolerance.EXACT.assertClose("copy", x, kernels.download(dc));
            kernels.scale(dx, 3.3f);
            Tolerance.EXACT.assertClose("scale", refX, kernels.download(dx));
            kernels.fill(dx, 0.25f);
            for (float[] a : kernels.download(dx)) {
                for (float v : a) {
                    assertEquals(0.25f, v);
                }
            }
        }
    }

    // ---- accumulation ---------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void accumulateSquareMatchesReference(String name, long[] sizes) {
        SplittableRandom r = random(name, "square");
        float[][] acc = TestData.importanceList(r, sizes);
        float[][] g = TestData.signedList(r, sizes);
        float[][] ref = TestData.deepCopy(acc);
        reference.accumulateSquare(HostTensors.wrap(ref), HostTensors.wrap(g), 1f / 3f);
        reference.accumulateSquare(HostTensors.wrap(ref), HostTensors.wrap(g), 0.5f);
        try (TensorList da = kernels.upload(acc); TensorList dg = kernels.upload(g)) {
            kernels.accumulateSquare(da, dg, 1f / 3f);
            kernels.accumulateSquare(da, dg, 0.5f);
            Tolerance.EXACT.assertClose("accumulateSquare", ref, kernels.download(da));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void accumulateAbsMatchesReference(String name, long[] sizes) {
        SplittableRandom r = random(name, "abs");
        float[][] acc = TestData.importanceList(r, sizes);
        float[][] g = TestData.signedList(r, sizes);
        float[][] ref = TestData.deepCopy(acc);
        reference.accumulateAbs(HostTensors.wrap(ref), HostTensors.wrap(g), 0.125f);
        try (TensorList da = kernels.upload(acc); TensorList dg = kernels.upload(g)) {
            kernels.accumulateAbs(da, dg, 0.125f);
            Tolerance.EXACT.assertClose("accumulateAbs", ref, kernels.download(da));
        }
    }

    // ---- optimiser step -------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void sgdStepMatchesReference(String name, long[] sizes) {
        SplittableRandom r = random(name, "sgd");
        float[][] theta = TestData.signedList(r, sizes);
        float[][] velocity = TestData.signedList(r, sizes);
        float[][] mask = TestData.signedList(r, sizes);
        for (float[] m : mask) {
            for (int j = 0; j < m.length; j++) {
                m[j] = m[j] > 0 ? 1f : 0f;
            }
        }
        float[][][] grads = {TestData.signedList(r, sizes), TestData.signedList(r, sizes)};
        for (boolean masked : new boolean[] {false, true}) {
            float[][] refTheta = TestData.deepCopy(theta);
            float[][] refVelocity = TestData.deepCopy(velocity);
            try (TensorList dt = kernels.upload(theta); TensorList dv = kernels.upload(velocity);
                 TensorList dm = kernels.upload(mask)) {
                for (float[][] g : grads) { // two steps: the momentum buffer carries over
                    reference.sgdStep(HostTensors.wrap(refTheta), HostTensors.wrap(refVelocity), HostTensors.wrap(g),
                            masked ? HostTensors.wrap(mask) : null, 0.05f, 0.9f, 5e-4f);
                    try (TensorList dg = kernels.upload(g)) {
                        kernels.sgdStep(dt, dv, dg, masked ? dm : null, 0.05f, 0.9f, 5e-4f);
                    }
                }
                Tolerance.EXACT.assertClose("theta masked=" + masked, refTheta, kernels.download(dt));
                Tolerance.EXACT.assertClose("velocity masked=" + masked, refVelocity, kernels.download(dv));
            }
        }
    }

    // ---- SSD ------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void ssdDampenMatchesReference(String name, long[] sizes) {
        SplittableRandom r = random(name, "ssd");
        float[][] theta = TestData.signedList(r, sizes);
        float[][] iD = TestData.importanceList(r, sizes);
        float[][] iF = TestData.importanceNearList(r, iD);
        for (float[] alphaLambda : new float[][] {{2f, 1f}, {10f, 1f}, {0.5f, 0.1f}, {1f, 50f}}) {
            float[][] ref = TestData.deepCopy(theta);
            long refCount = reference.ssdDampen(HostTensors.wrap(ref), HostTensors.wrap(iD), HostTensors.wrap(iF),
                    alphaLambda[0], alphaLambda[1]);
            try (TensorList dt = kernels.upload(theta); TensorList dd = kernels.upload(iD); TensorList df = kernels.upload(iF)) {
                long count = kernels.ssdDampen(dt, dd, df, alphaLambda[0], alphaLambda[1]);
                assertEquals(refCount, count, "selected count, alpha=" + alphaLambda[0]);
                Tolerance.EXACT.assertClose("ssdDampen alpha=" + alphaLambda[0], ref, kernels.download(dt));
            }
        }
    }

    /** The rule itself, element by element, on hand-picked cases. */
    @Test
    void ssdDampenFollowsTheRule() {
        KernelRules.ssdDampenFollowsTheRule(kernels);
    }

    // ---- DeepClean ------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void ratioResetMatchesReference(String name, long[] sizes) {
        SplittableRandom r = random(name, "reset");
        float[][] theta = TestData.signedList(r, sizes);
        float[][] iR = TestData.importanceList(r, sizes);
        float[][] iF = TestData.importanceNearList(r, iR);
        float[][] mask = TestData.signedList(r, sizes); // garbage in: every element must be overwritten
        float[][] refTheta = TestData.deepCopy(theta);
        float[][] refMask = TestData.deepCopy(mask);
        long refCount = reference.ratioReset(HostTensors.wrap(refTheta), HostTensors.wrap(refMask),
                HostTensors.wrap(iF), HostTensors.wrap(iR), 1e-8f, 3f);
        try (TensorList dt = kernels.upload(theta); TensorList dm = kernels.upload(mask);
             TensorList df = kernels.upload(iF); TensorList dr = kernels.upload(iR)) {
            assertEquals(refCount, kernels.ratioReset(dt, dm, df, dr, 1e-8f, 3f));
            Tolerance.EXACT.assertClose("theta", refTheta, kernels.download(dt));
            Tolerance.EXACT.assertClose("mask", refMask, kernels.download(dm));
        }
        for (float[] m : refMask) {
            for (float v : m) {
                assertTrue(v == 0f || v == 1f, "mask holds only 0 and 1");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void ratioThresholdSelectsTheTopFraction(String name, long[] sizes) {
        SplittableRandom r = random(name, "threshold");
        float[][] iR = TestData.importanceList(r, sizes);
        float[][] iF = TestData.importanceNearList(r, iR);
        float eps = 1e-10f;
        float[] sorted = sortedRatios(iF, iR, eps);
        long total = sorted.length;
        try (TensorList df = kernels.upload(iF); TensorList dr = kernels.upload(iR)) {
            for (double p : new double[] {0, 1e-5, 0.001, 0.1, 0.5, 0.999, 1}) {
                long k = Math.round(p * total);
                float gamma = kernels.ratioThresholdForFraction(df, dr, eps, p);
                float expected = k == 0 ? Float.POSITIVE_INFINITY : Math.nextDown(sorted[(int) (total - k)]);
                assertEquals(expected, gamma, 0f, "threshold for p=" + p + " over " + total + " elements");
                long selected = Arrays.stream(toDoubles(sorted)).filter(v -> v > gamma).count();
                assertTrue(selected >= k, "at least k = " + k + " ratios lie above the threshold, got " + selected);
                assertEquals(gamma, reference.ratioThresholdForFraction(HostTensors.wrap(iF), HostTensors.wrap(iR), eps, p), 0f);
            }
        }
    }

    @Test
    void ratioHistogramMatchesReference() {
        SplittableRandom r = new SplittableRandom(7);
        long[] sizes = TestData.mixedSizes(7, 30);
        float[][] iR = TestData.importanceList(r, sizes);
        float[][] iF = TestData.importanceNearList(r, iR);
        try (TensorList df = kernels.upload(iF); TensorList dr = kernels.upload(iR)) {
            long[] ref = reference.ratioHistogram(HostTensors.wrap(iF), HostTensors.wrap(iR), 1e-8f, 21, 11, 0, 0);
            assertArrayEquals(ref, kernels.ratioHistogram(df, dr, 1e-8f, 21, 11, 0, 0));
            int top = 0;
            for (int b = 0; b < ref.length; b++) {
                if (ref[b] > ref[top]) {
                    top = b;
                }
            }
            int prefix = top << 21;
            int mask = 0x7FF << 21;
            assertArrayEquals(reference.ratioHistogram(HostTensors.wrap(iF), HostTensors.wrap(iR), 1e-8f, 10, 11, prefix, mask),
                    kernels.ratioHistogram(df, dr, 1e-8f, 10, 11, prefix, mask));
        }
    }

    private static float[] sortedRatios(float[][] iF, float[][] iR, float eps) {
        int n = 0;
        for (float[] a : iF) {
            n += a.length;
        }
        float[] all = new float[n];
        int k = 0;
        for (int t = 0; t < iF.length; t++) {
            for (int j = 0; j < iF[t].length; j++) {
                all[k++] = RatioKeys.ratio(iF[t][j], iR[t][j], eps);
            }
        }
        Arrays.sort(all);
        return all;
    }

    private static double[] toDoubles(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    // ---- Mnemonic -------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void ratioShiftMatchesReference(String name, long[] sizes) {
        SplittableRandom r = random(name, "shift");
        float[][] w = TestData.signedList(r, sizes);
        float[][] fR = TestData.importanceList(r, sizes);
        float[][] fF = TestData.importanceNearList(r, fR);
        for (float[] f : fF) {
            for (int j = 0; j < f.length; j++) {
                f[j] += 1e-16f; // as the Mnemonic FIM starts at 1e-16; zeros stay possible in fR below
            }
        }
        for (float sign : new float[] {1f, -1f}) {
            float[][] ref = TestData.deepCopy(w);
            float[] refAlpha = reference.ratioShift(HostTensors.wrap(ref), HostTensors.wrap(fF), HostTensors.wrap(fR), sign, 1e-3f, 10f);
            try (TensorList dw = kernels.upload(w); TensorList df = kernels.upload(fF); TensorList dr = kernels.upload(fR)) {
                float[] alpha = kernels.ratioShift(dw, df, dr, sign, 1e-3f, 10f);
                SHIFT.assertClose("alpha_l", refAlpha, alpha);
                SHIFT.assertClose("w sign=" + sign, ref, kernels.download(dw));
            }
        }
    }

    /** NaN → 1 (d = 0) and ±inf → the largest finite d, as the reference implementation does. */
    @Test
    void ratioShiftSanitisesLikeTheReference() {
        KernelRules.ratioShiftSanitisesLikeTheReference(kernels);
    }

    // ---- stats ----------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void statsMatchReference(String name, long[] sizes) {
        SplittableRandom r = random(name, "stats");
        float[][] x = TestData.signedList(r, sizes);
        for (float[] a : x) {
            for (int j = 0; j < a.length; j += 997) {
                a[j] = j % 3 == 0 ? Float.NaN : j % 3 == 1 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
            }
        }
        TensorStats[] ref = reference.stats(HostTensors.wrap(x));
        try (TensorList dx = kernels.upload(x)) {
            TensorStats[] got = kernels.stats(dx);
            assertEquals(ref.length, got.length);
            for (int t = 0; t < ref.length; t++) {
                double absSum = 0;
                for (float v : x[t]) {
                    if (Float.isFinite(v)) {
                        absSum += Math.abs(v);
                    }
                }
                assertEquals(ref[t].count(), got[t].count(), "count of tensor " + t);
                assertEquals(ref[t].nonFinite(), got[t].nonFinite(), "non-finite count of tensor " + t);
                assertEquals(ref[t].max(), got[t].max(), 0f, "max of tensor " + t);
                assertEquals(ref[t].sum(), got[t].sum(), SUM_RTOL * absSum + 1e-30, "sum of tensor " + t);
            }
        }
    }

    // ---- argument checks ------------------------------------------------------------------------

    @Test
    void mismatchedShapesAreRejected() {
        try (TensorList a = kernels.allocate(3, 4); TensorList b = kernels.allocate(3, 5); TensorList c = kernels.allocate(3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> kernels.accumulateSquare(a, b, 1f));
            assertTrue(e.getMessage().contains("differ in shape"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> kernels.ssdDampen(a, a, c, 1f, 1f));
            assertThrows(IllegalArgumentException.class, () -> kernels.ratioThresholdForFraction(a, a, 0f, 1.5));
        }
    }

    @Test
    void emptyListsAreFine() {
        try (TensorList a = kernels.allocate(); TensorList b = kernels.allocate()) {
            kernels.accumulateSquare(a, b, 1f);
            assertEquals(0, kernels.ssdDampen(a, a, b, 1f, 1f));
            assertEquals(Float.POSITIVE_INFINITY, kernels.ratioThresholdForFraction(a, b, 0f, 0.5));
            assertEquals(0, kernels.stats(a).length);
            assertEquals(0, kernels.ratioShift(a, a, b, 1f, 1f, 1f).length);
        }
    }
}
