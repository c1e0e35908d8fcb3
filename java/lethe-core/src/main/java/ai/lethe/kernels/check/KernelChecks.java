package ai.lethe.kernels.check;

import static ai.lethe.kernels.check.KernelMismatch.expectEqual;
import static ai.lethe.kernels.check.KernelMismatch.expectTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import ai.lethe.bench.ParameterShapes;
import ai.lethe.kernels.ConvGeometry;
import ai.lethe.kernels.HostTensors;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.RatioKeys;
import ai.lethe.kernels.ScalarKernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.kernels.TensorStats;
import ai.lethe.kernels.cuda.CudaKernels;
import ai.lethe.kernels.cuda.DeviceTensors;

/**
 * Every kernel of a back end against {@link ScalarKernels}: seeded random data of odd sizes, lists of many
 * tensors of mixed sizes, ResNet-18's parameter list, special values (zeros and denormals everywhere; NaN and
 * ±inf in the values and gradients the element-wise kernels and stats read) and the
 * literal per-element rules of the spec. The JUnit contract test and {@code lethe selftest} run these same
 * checks, so a GPU machine without Maven checks exactly what CI checks on the CPU.
 *
 * <p>Tolerances, |x − ref| ≤ atol + rtol·|ref|:
 * <ul>
 *   <li>element-wise kernels (copy, fill, scale, scaleAdd, sgdStep, accumulate*, ssdDampen, ratioReset) and
 *       ratioShift: exact — every back end performs the same fp32 operations in the same order (CUDA is built
 *       with -fmad=false), and ratioShift's η is a double quotient rounded once to float, correctly rounded
 *       everywhere (see MnemonicMath);</li>
 *   <li>counts, histograms and thresholds: exact;</li>
 *   <li>stats sums: |Δ| ≤ 1e-5·Σ|x| — reductions run in a different order; max and counts are exact.</li>
 *   <li>accumulatePerSampleProducts: |Δ| ≤ 1e-5·(|acc| + Σ_n f(Σ_p |g·u|)) per element, f = square or identity —
 *       the reference forms each per-sample product in double, the back ends in fp32 in their own order.</li>
 * </ul>
 */
public final class KernelChecks {

    static final double SUM_RTOL = 1e-5;

    /** One check: runs the back end and the reference and throws {@link KernelMismatch} on any difference. */
    public record Check(String name, Body body) {
        public void run(Kernels kernels, ScalarKernels reference) {
            body.run(kernels, reference);
        }
    }

    @FunctionalInterface
    public interface Body {
        void run(Kernels kernels, ScalarKernels reference);
    }

    /** A named list of tensor sizes. */
    public record Shape(String name, long[] sizes) {
    }

    private KernelChecks() {
    }

    /** Single-tensor lists of the odd sizes, lists of many tensors of mixed sizes, and (when asked) ResNet-18's 62 tensors. */
    public static List<Shape> shapes(boolean resnet18) {
        List<Shape> out = new ArrayList<>();
        for (int n : KernelInputs.ODD_SIZES) {
            out.add(new Shape("n=" + n, new long[] {n}));
        }
        out.add(new Shape("mixed 62 tensors", KernelInputs.mixedSizes(62, 62)));
        out.add(new Shape("mixed 200 tensors", KernelInputs.mixedSizes(200, 200)));
        out.add(new Shape("odd sizes together", Arrays.stream(KernelInputs.ODD_SIZES).asLongStream().toArray()));
        if (resnet18) {
            out.add(new Shape("resnet-18 (62 tensors, 11,181,642 floats)", ParameterShapes.resnet18()));
        }
        return out;
    }

    /**
     * Every check for this back end, per kernel and shape; {@code resnet18} adds ResNet-18's parameter list to
     * the shapes. CUDA gets one more: views that start off a 16-byte boundary.
     */
    public static List<Check> forBackend(Kernels backend, boolean resnet18) {
        List<Check> out = all(resnet18);
        if (backend instanceof CudaKernels) {
            out.add(new Check("unaligned views (CUDA)", (k, ref) -> unalignedViews((CudaKernels) k)));
            out.add(new Check("shared device helpers (CUDA)", (k, ref) -> ((CudaKernels) k).checkHelpers()));
        }
        return out;
    }

    /** Every check that applies to any back end. */
    public static List<Check> all(boolean resnet18) {
        List<Check> out = new ArrayList<>();
        for (Shape s : shapes(resnet18)) {
            out.add(new Check("copy/fill/scale/scaleAdd " + s.name(), (k, ref) -> elementwise(k, ref, s)));
            out.add(new Check("accumulateSquare " + s.name(), (k, ref) -> accumulateSquare(k, ref, s)));
            out.add(new Check("accumulateAbs " + s.name(), (k, ref) -> accumulateAbs(k, ref, s)));
            out.add(new Check("sgdStep " + s.name(), (k, ref) -> sgdStep(k, ref, s)));
            out.add(new Check("ssdDampen " + s.name(), (k, ref) -> ssdDampen(k, ref, s)));
            out.add(new Check("ratioReset " + s.name(), (k, ref) -> ratioReset(k, ref, s)));
            out.add(new Check("ratioThreshold " + s.name(), (k, ref) -> ratioThreshold(k, ref, s)));
            out.add(new Check("ratioThreshold with NaN ratios " + s.name(), (k, ref) -> ratioThresholdWithNaN(k, ref, s)));
            out.add(new Check("ratioShift " + s.name(), (k, ref) -> ratioShift(k, ref, s)));
            out.add(new Check("stats " + s.name(), (k, ref) -> stats(k, ref, s)));
        }
        for (int[] d : PER_SAMPLE_DIMENSIONS) {
            for (boolean absolute : new boolean[] {false, true}) {
                out.add(new Check("accumulatePerSampleProducts " + (absolute ? "abs " : "square ") + d[0] + " samples, "
                        + d[1] + "x" + d[2] + ", " + d[3] + " positions", (k, ref) -> perSampleProducts(k, ref, d, absolute)));
            }
        }
        for (ConvGeometry c : CONV_GEOMETRIES) {
            for (boolean absolute : new boolean[] {false, true}) {
                out.add(new Check("accumulateConvPerSampleProducts " + (absolute ? "abs " : "square ") + c.samples() + " samples, "
                        + c.inChannels() + "x" + c.inHeight() + "x" + c.inWidth() + " -> " + c.outChannels() + ", k" + c.kernel()
                        + " s" + c.stride() + " p" + c.padding(), (k, ref) -> convPerSampleProducts(k, ref, c, absolute)));
            }
        }
        out.add(new Check("ratioHistogram mixed 30 tensors", KernelChecks::ratioHistogram));
        out.add(new Check("ssdDampen rule on special values", (k, ref) -> KernelRules.ssdDampenFollowsTheRule(k)));
        out.add(new Check("ratioShift NaN/inf sanitising", (k, ref) -> KernelRules.ratioShiftSanitisesLikeTheReference(k)));
        out.add(new Check("ratioShift eta is the correctly rounded quotient", (k, ref) -> KernelRules.ratioShiftEtaIsTheQuotient(k)));
        out.add(new Check("empty lists", (k, ref) -> emptyLists(k)));
        out.add(new Check("mismatched shapes refused", (k, ref) -> mismatchedShapes(k)));
        return out;
    }

    private static SplittableRandom random(String shape, String kernel) {
        return new SplittableRandom((shape + "/" + kernel).hashCode());
    }

    // ---- element-wise helpers -------------------------------------------------------------------

    static void elementwise(Kernels kernels, ScalarKernels reference, Shape s) {
        SplittableRandom r = random(s.name(), "elementwise");
        float[][] x = KernelInputs.withNonFinite(KernelInputs.signedList(r, s.sizes()));
        float[][] y = KernelInputs.signedList(r, s.sizes());
        float[][] refY = KernelInputs.deepCopy(y);
        reference.scaleAdd(HostTensors.wrap(refY), HostTensors.wrap(x), -0.731f);
        float[][] refX = KernelInputs.deepCopy(x);
        reference.scale(HostTensors.wrap(refX), 3.3f);
        float[][] refQuotient = KernelInputs.deepCopy(y);
        reference.divide(HostTensors.wrap(refQuotient), HostTensors.wrap(x), 7f);
        try (TensorList dx = kernels.upload(x); TensorList dy = kernels.upload(y); TensorList dc = kernels.allocate(s.sizes())) {
            kernels.divide(dc, dx, 7f);
            // exact: an importance normalised on a device must equal the host's division bit for bit
            Tolerance.EXACT.assertClose("divide", refQuotient, kernels.download(dc));
            kernels.scaleAdd(dy, dx, -0.731f);
            Tolerance.EXACT.assertClose("scaleAdd", refY, kernels.download(dy));
            kernels.copy(dx, dc);
            Tolerance.EXACT.assertClose("copy", x, kernels.download(dc));
            kernels.scale(dx, 3.3f);
            Tolerance.EXACT.assertClose("scale", refX, kernels.download(dx));
            kernels.fill(dx, 0.25f);
            for (float[] a : kernels.download(dx)) {
                for (float v : a) {
                    expectEqual(0.25f, v);
                }
            }
        }
    }

    // ---- accumulation ---------------------------------------------------------------------------

    static void accumulateSquare(Kernels kernels, ScalarKernels reference, Shape s) {
        SplittableRandom r = random(s.name(), "square");
        float[][] acc = KernelInputs.importanceList(r, s.sizes());
        float[][] g = KernelInputs.withNonFinite(KernelInputs.signedList(r, s.sizes()));
        float[][] ref = KernelInputs.deepCopy(acc);
        reference.accumulateSquare(HostTensors.wrap(ref), HostTensors.wrap(g), 1f / 3f);
        reference.accumulateSquare(HostTensors.wrap(ref), HostTensors.wrap(g), 0.5f);
        try (TensorList da = kernels.upload(acc); TensorList dg = kernels.upload(g)) {
            kernels.takeGradientNonFinite();
            kernels.accumulateSquare(da, dg, 1f / 3f);
            kernels.accumulateSquare(da, dg, 0.5f);
            Tolerance.EXACT.assertClose("accumulateSquare", ref, kernels.download(da));
            expectEqual(2 * nonFinite(g), kernels.takeGradientNonFinite(), "accumulateSquare's count of NaN/Inf gradient values");
            expectEqual(0, kernels.takeGradientNonFinite(), "the count after it was taken");
        }
    }

    /** The NaN/Inf elements of a list: what the accumulate kernels must count. */
    static long nonFinite(float[][] g) {
        long n = 0;
        for (float[] t : g) {
            for (float v : t) {
                n += Float.isFinite(v) ? 0 : 1;
            }
        }
        return n;
    }

    static void accumulateAbs(Kernels kernels, ScalarKernels reference, Shape s) {
        SplittableRandom r = random(s.name(), "abs");
        float[][] acc = KernelInputs.importanceList(r, s.sizes());
        float[][] g = KernelInputs.withNonFinite(KernelInputs.signedList(r, s.sizes()));
        float[][] ref = KernelInputs.deepCopy(acc);
        reference.accumulateAbs(HostTensors.wrap(ref), HostTensors.wrap(g), 0.125f);
        try (TensorList da = kernels.upload(acc); TensorList dg = kernels.upload(g)) {
            kernels.takeGradientNonFinite();
            kernels.accumulateAbs(da, dg, 0.125f);
            Tolerance.EXACT.assertClose("accumulateAbs", ref, kernels.download(da));
            expectEqual(nonFinite(g), kernels.takeGradientNonFinite(), "accumulateAbs's count of NaN/Inf gradient values");
        }
    }

    /**
     * samples, rows, cols, positions: odd sizes around the CUDA kernel's 32-wide tiles, the zoo cnn's two
     * convolutions (16x9 at 28x28, 32x144 at 14x14), a 1x1 convolution and empty blocks.
     */
    static final int[][] PER_SAMPLE_DIMENSIONS = {
        {1, 1, 1, 1}, {7, 3, 5, 7}, {65, 16, 9, 784}, {7, 32, 144, 196}, {3, 33, 65, 31}, {2, 70, 9, 1}, {5, 4, 6, 0},
        {0, 5, 5, 5},
    };

    /**
     * Convolutions for the direct per-sample products: the zoo cnn's two (the second with enough samples to run in
     * parallel), odd channel counts around the vector width and the 4-channel tile, strides 2 with padding (ResNet's
     * downsampling 3×3 and 1×1, a 7×7 stem), non-square inputs, a window larger than the input (no output) and no sample.
     */
    static final ConvGeometry[] CONV_GEOMETRIES = {
        conv(1, 1, 1, 1, 1, 1, 1, 0), conv(7, 3, 5, 7, 5, 3, 1, 1), conv(65, 1, 28, 28, 16, 3, 1, 1),
        conv(7, 16, 14, 14, 32, 3, 1, 1), conv(33, 16, 14, 14, 32, 3, 1, 1), conv(3, 5, 9, 9, 33, 3, 2, 1),
        conv(2, 6, 8, 8, 17, 1, 2, 0), conv(3, 3, 13, 11, 7, 7, 2, 3), conv(5, 4, 2, 2, 3, 5, 1, 0), conv(0, 2, 4, 4, 3, 3, 1, 1),
    };

    private static ConvGeometry conv(int samples, int cin, int h, int w, int cout, int k, int stride, int padding) {
        return new ConvGeometry(samples, cin, h, w, cout, ConvGeometry.outSize(h, k, stride, padding),
                ConvGeometry.outSize(w, k, stride, padding), k, stride, padding);
    }

    static void convPerSampleProducts(Kernels kernels, ScalarKernels reference, ConvGeometry c, boolean absolute) {
        SplittableRandom r = random(c.toString(), "conv-per-sample-products");
        float[] g = KernelInputs.signed(r, Math.toIntExact(c.outputSize()));
        float[] a = KernelInputs.signed(r, Math.toIntExact(c.inputSize()));
        float[] acc = KernelInputs.importance(r, Math.toIntExact(c.weightSize()));
        float[] ref = acc.clone();
        reference.accumulateConvPerSampleProducts(HostTensors.wrap(ref), HostTensors.wrap(g), HostTensors.wrap(a), c, absolute);
        float[] bound = acc.clone();
        for (int i = 0; i < bound.length; i++) {
            bound[i] = Math.abs(bound[i]);
        }
        float[] ga = g.clone();
        float[] aa = a.clone();
        for (int i = 0; i < ga.length; i++) {
            ga[i] = Math.abs(ga[i]);
        }
        for (int i = 0; i < aa.length; i++) {
            aa[i] = Math.abs(aa[i]);
        }
        // the reference on |g| and |a| is Σ_n f(Σ_p |g·a|): the scale of the rounding each back end may make
        reference.accumulateConvPerSampleProducts(HostTensors.wrap(bound), HostTensors.wrap(ga), HostTensors.wrap(aa), c, absolute);
        float[] got;
        try (TensorList da = kernels.upload(acc); TensorList dg = kernels.upload(g); TensorList dx = kernels.upload(a)) {
            kernels.accumulateConvPerSampleProducts(da, dg, dx, c, absolute);
            got = kernels.download(da)[0];
        }
        for (int e = 0; e < acc.length; e++) {
            expectEqual(ref[e], got[e], 1e-5 * bound[e] + Float.MIN_VALUE, "acc[" + e + "]");
        }
    }

    static void perSampleProducts(Kernels kernels, ScalarKernels reference, int[] d, boolean absolute) {
        int samples = d[0], rows = d[1], cols = d[2], positions = d[3];
        SplittableRandom r = random(Arrays.toString(d), "per-sample-products");
        float[] g = KernelInputs.signed(r, samples * rows * positions);
        float[] u = KernelInputs.signed(r, samples * cols * positions);
        float[] acc = KernelInputs.importance(r, rows * cols);
        float[] ref = acc.clone();
        reference.accumulatePerSampleProducts(HostTensors.wrap(ref), HostTensors.wrap(g), HostTensors.wrap(u), samples, rows,
                cols, positions, absolute);
        float[] got;
        try (TensorList da = kernels.upload(acc); TensorList dg = kernels.upload(g); TensorList du = kernels.upload(u)) {
            kernels.accumulatePerSampleProducts(da, dg, du, samples, rows, cols, positions, absolute);
            got = kernels.download(da)[0];
        }
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double bound = Math.abs(acc[i * cols + j]);
                for (int n = 0; n < samples; n++) {
                    double w = 0;
                    for (int p = 0; p < positions; p++) {
                        w += Math.abs((double) g[(n * rows + i) * positions + p] * u[(n * cols + j) * positions + p]);
                    }
                    bound += absolute ? w : w * w;
                }
                int e = i * cols + j;
                expectEqual(ref[e], got[e], 1e-5 * bound + Float.MIN_VALUE, "acc[" + i + "][" + j + "]");
            }
        }
    }

    // ---- optimiser step -------------------------------------------------------------------------

    static void sgdStep(Kernels kernels, ScalarKernels reference, Shape s) {
        SplittableRandom r = random(s.name(), "sgd");
        float[][] theta = KernelInputs.signedList(r, s.sizes());
        float[][] velocity = KernelInputs.signedList(r, s.sizes());
        float[][] mask = KernelInputs.signedList(r, s.sizes());
        for (float[] m : mask) {
            for (int j = 0; j < m.length; j++) {
                m[j] = m[j] > 0 ? 1f : 0f;
            }
        }
        float[][][] grads = {KernelInputs.signedList(r, s.sizes()), KernelInputs.withNonFinite(KernelInputs.signedList(r, s.sizes()))};
        for (boolean masked : new boolean[] {false, true}) {
            float[][] refTheta = KernelInputs.deepCopy(theta);
            float[][] refVelocity = KernelInputs.deepCopy(velocity);
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

    static void ssdDampen(Kernels kernels, ScalarKernels reference, Shape s) {
        SplittableRandom r = random(s.name(), "ssd");
        float[][] theta = KernelInputs.withNonFinite(KernelInputs.signedList(r, s.sizes()));
        float[][] iD = KernelInputs.importanceList(r, s.sizes());
        float[][] iF = KernelInputs.importanceNearList(r, iD);
        for (float[] alphaLambda : new float[][] {{2f, 1f}, {10f, 1f}, {0.5f, 0.1f}, {1f, 50f}}) {
            float[][] ref = KernelInputs.deepCopy(theta);
            long refCount = reference.ssdDampen(HostTensors.wrap(ref), HostTensors.wrap(iD), HostTensors.wrap(iF),
                    alphaLambda[0], alphaLambda[1]);
            try (TensorList dt = kernels.upload(theta); TensorList dd = kernels.upload(iD); TensorList df = kernels.upload(iF)) {
                long count = kernels.ssdDampen(dt, dd, df, alphaLambda[0], alphaLambda[1]);
                expectEqual(refCount, count, "selected count, alpha=" + alphaLambda[0]);
                Tolerance.EXACT.assertClose("ssdDampen alpha=" + alphaLambda[0], ref, kernels.download(dt));
            }
        }
    }

    // ---- DeepClean ------------------------------------------------------------------------------

    static void ratioReset(Kernels kernels, ScalarKernels reference, Shape s) {
        SplittableRandom r = random(s.name(), "reset");
        float[][] theta = KernelInputs.withNonFinite(KernelInputs.signedList(r, s.sizes()));
        float[][] iR = KernelInputs.importanceList(r, s.sizes());
        float[][] iF = KernelInputs.importanceNearList(r, iR);
        float[][] mask = KernelInputs.signedList(r, s.sizes()); // garbage in: every element must be overwritten
        float[][] refTheta = KernelInputs.deepCopy(theta);
        float[][] refMask = KernelInputs.deepCopy(mask);
        long refCount = reference.ratioReset(HostTensors.wrap(refTheta), HostTensors.wrap(refMask),
                HostTensors.wrap(iF), HostTensors.wrap(iR), 1e-8f, 3f);
        try (TensorList dt = kernels.upload(theta); TensorList dm = kernels.upload(mask);
             TensorList df = kernels.upload(iF); TensorList dr = kernels.upload(iR)) {
            expectEqual(refCount, kernels.ratioReset(dt, dm, df, dr, 1e-8f, 3f), "reset count");
            Tolerance.EXACT.assertClose("theta", refTheta, kernels.download(dt));
            Tolerance.EXACT.assertClose("mask", refMask, kernels.download(dm));
        }
        for (float[] m : refMask) {
            for (float v : m) {
                expectTrue(v == 0f || v == 1f, "mask holds only 0 and 1, found " + v);
            }
        }
    }

    static void ratioThreshold(Kernels kernels, ScalarKernels reference, Shape s) {
        SplittableRandom r = random(s.name(), "threshold");
        float[][] iR = KernelInputs.importanceList(r, s.sizes());
        float[][] iF = KernelInputs.importanceNearList(r, iR);
        float eps = 1e-10f;
        float[] sorted = sortedRatios(iF, iR, eps);
        long total = sorted.length;
        try (TensorList df = kernels.upload(iF); TensorList dr = kernels.upload(iR)) {
            for (double p : new double[] {0, 1e-5, 0.001, 0.1, 0.5, 0.999, 1}) {
                long k = Math.round(p * total);
                float gamma = kernels.ratioThresholdForFraction(df, dr, eps, p);
                float expected = k == 0 ? Float.POSITIVE_INFINITY : Math.nextDown(sorted[(int) (total - k)]);
                expectEqual(expected, gamma, 0, "threshold for p=" + p + " over " + total + " elements");
                long selected = countAbove(sorted, gamma);
                expectTrue(selected >= k, "at least k = " + k + " ratios lie above the threshold, got " + selected);
                expectEqual(gamma, reference.ratioThresholdForFraction(HostTensors.wrap(iF), HostTensors.wrap(iR), eps, p), 0,
                        "reference threshold for p=" + p);
            }
        }
    }

    /**
     * Epsilon 0 and elements with iF = iR = 0 (or both +inf): their ratio is NaN, which the JVM and CUDA encode
     * differently. Every back end must rank NaN lowest and never select it.
     */
    static void ratioThresholdWithNaN(Kernels kernels, ScalarKernels reference, Shape s) {
        SplittableRandom r = random(s.name(), "threshold-nan");
        float[][] iR = KernelInputs.importanceList(r, s.sizes());
        float[][] iF = KernelInputs.importanceNearList(r, iR);
        long total = 0;
        for (int t = 0; t < iF.length; t++) {
            for (int j = 0; j < iF[t].length; j++) {
                if (j % 13 == 0) {
                    iF[t][j] = iR[t][j] = 0f;
                } else if (j % 29 == 0) {
                    iF[t][j] = iR[t][j] = Float.POSITIVE_INFINITY;
                }
                total++;
            }
        }
        float[] all = sortedRatios(iF, iR, 0f);
        int numbers = 0;
        while (numbers < all.length && !Float.isNaN(all[numbers])) {
            numbers++; // Arrays.sort puts NaN last
        }
        float[] sorted = Arrays.copyOf(all, numbers);
        try (TensorList df = kernels.upload(iF); TensorList dr = kernels.upload(iR)) {
            long[] ref = reference.ratioHistogram(HostTensors.wrap(iF), HostTensors.wrap(iR), 0f, 21, 11, 0, 0);
            expectTrue(Arrays.equals(ref, kernels.ratioHistogram(df, dr, 0f, 21, 11, 0, 0)), "histogram with NaN ratios differs");
            for (double p : new double[] {0.001, 0.5, 0.95, 1}) {
                long k = Math.round(p * total);
                float gamma = kernels.ratioThresholdForFraction(df, dr, 0f, p);
                float expected = k == 0 ? Float.POSITIVE_INFINITY
                        : k > sorted.length ? -Float.MAX_VALUE : Math.nextDown(sorted[(int) (sorted.length - k)]);
                expectEqual(expected, gamma, 0, "threshold for p=" + p + " with NaN ratios");
                expectEqual(gamma, reference.ratioThresholdForFraction(HostTensors.wrap(iF), HostTensors.wrap(iR), 0f, p), 0,
                        "reference threshold for p=" + p + " with NaN ratios");
            }
        }
    }

    static void ratioHistogram(Kernels kernels, ScalarKernels reference) {
        SplittableRandom r = new SplittableRandom(7);
        long[] sizes = KernelInputs.mixedSizes(7, 30);
        float[][] iR = KernelInputs.importanceList(r, sizes);
        float[][] iF = KernelInputs.importanceNearList(r, iR);
        try (TensorList df = kernels.upload(iF); TensorList dr = kernels.upload(iR)) {
            long[] ref = reference.ratioHistogram(HostTensors.wrap(iF), HostTensors.wrap(iR), 1e-8f, 21, 11, 0, 0);
            expectTrue(Arrays.equals(ref, kernels.ratioHistogram(df, dr, 1e-8f, 21, 11, 0, 0)), "top-level histogram differs");
            int top = 0;
            for (int b = 0; b < ref.length; b++) {
                if (ref[b] > ref[top]) {
                    top = b;
                }
            }
            int prefix = top << 21;
            int mask = 0x7FF << 21;
            expectTrue(Arrays.equals(reference.ratioHistogram(HostTensors.wrap(iF), HostTensors.wrap(iR), 1e-8f, 10, 11, prefix, mask),
                    kernels.ratioHistogram(df, dr, 1e-8f, 10, 11, prefix, mask)), "second-level histogram differs");
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

    private static long countAbove(float[] sorted, float gamma) {
        long c = 0;
        for (float v : sorted) {
            c += v > gamma ? 1 : 0;
        }
        return c;
    }

    // ---- Mnemonic -------------------------------------------------------------------------------

    static void ratioShift(Kernels kernels, ScalarKernels reference, Shape s) {
        SplittableRandom r = random(s.name(), "shift");
        float[][] w = KernelInputs.signedList(r, s.sizes());
        float[][] fR = KernelInputs.importanceList(r, s.sizes());
        float[][] fF = KernelInputs.importanceNearList(r, fR);
        for (float[] f : fF) {
            for (int j = 0; j < f.length; j++) {
                f[j] += 1e-16f; // as the Mnemonic FIM starts at 1e-16; zeros stay possible in fR
            }
        }
        for (float sign : new float[] {1f, -1f}) {
            float[][] ref = KernelInputs.deepCopy(w);
            float[] refAlpha = reference.ratioShift(HostTensors.wrap(ref), HostTensors.wrap(fF), HostTensors.wrap(fR), sign, 1e-3f, 10f);
            try (TensorList dw = kernels.upload(w); TensorList df = kernels.upload(fF); TensorList dr = kernels.upload(fR)) {
                float[] alpha = kernels.ratioShift(dw, df, dr, sign, 1e-3f, 10f);
                Tolerance.EXACT.assertClose("alpha_l", refAlpha, alpha);
                Tolerance.EXACT.assertClose("w sign=" + sign, ref, kernels.download(dw));
            }
        }
    }

    // ---- stats ----------------------------------------------------------------------------------

    /**
     * All finite (the common case, which back ends may take faster), then values so large that a float sum
     * overflows although every value is finite (the reference sums in doubles), then with NaN and
     * infinities sprinkled in.
     */
    static void stats(Kernels kernels, ScalarKernels reference, Shape s) {
        SplittableRandom r = random(s.name(), "stats");
        float[][] x = KernelInputs.signedList(r, s.sizes());
        stats(kernels, reference, KernelInputs.deepCopy(x), "all finite");
        float[][] huge = KernelInputs.deepCopy(x);
        for (float[] a : huge) {
            for (int j = 0; j < a.length; j++) {
                a[j] = (1 + j % 10) * 1e37f; // 1e37 to 1e38: a few dozen of them pass Float.MAX_VALUE
            }
        }
        stats(kernels, reference, huge, "finite values whose float sum overflows");
        for (float[] a : x) {
            for (int j = 0; j < a.length; j += 997) {
                a[j] = j % 3 == 0 ? Float.NaN : j % 3 == 1 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
            }
        }
        stats(kernels, reference, x, "with NaN and infinities");
    }

    private static void stats(Kernels kernels, ScalarKernels reference, float[][] x, String what) {
        TensorStats[] ref = reference.stats(HostTensors.wrap(x));
        try (TensorList dx = kernels.upload(x)) {
            TensorStats[] got = kernels.stats(dx);
            expectEqual(ref.length, got.length, "tensors");
            for (int t = 0; t < ref.length; t++) {
                double absSum = 0;
                for (float v : x[t]) {
                    if (Float.isFinite(v)) {
                        absSum += Math.abs(v);
                    }
                }
                expectEqual(ref[t].count(), got[t].count(), what + ": count of tensor " + t);
                expectEqual(ref[t].nonFinite(), got[t].nonFinite(), what + ": non-finite count of tensor " + t);
                expectEqual(ref[t].max(), got[t].max(), 0, what + ": max of tensor " + t);
                expectEqual(ref[t].sum(), got[t].sum(), SUM_RTOL * absSum + 1e-30, what + ": sum of tensor " + t);
            }
        }
    }

    /** Views that start off a 16-byte boundary must take the scalar path inside a tile and still agree. */
    static void unalignedViews(CudaKernels cuda) {
        float[] acc = new float[10_001];
        float[] g = new float[10_001];
        for (int i = 0; i < g.length; i++) {
            g[i] = (i % 13) - 6.5f;
            acc[i] = i * 1e-3f;
        }
        try (DeviceTensors a = (DeviceTensors) cuda.upload(acc); DeviceTensors b = (DeviceTensors) cuda.upload(g)) {
            long n = acc.length - 1;
            try (TensorList va = cuda.wrapBorrowed(new long[] {a.pointer(0) + 4}, new long[] {n});
                 TensorList vb = cuda.wrapBorrowed(new long[] {b.pointer(0) + 4}, new long[] {n})) {
                cuda.accumulateSquare(va, vb, 0.5f);
            }
            float[] got = cuda.download(a)[0];
            float[] expected = acc.clone();
            for (int i = 1; i < expected.length; i++) {
                expected[i] = expected[i] + 0.5f * (g[i] * g[i]);
            }
            Tolerance.EXACT.assertClose("unaligned accumulate", expected, got);
            expectEqual(acc[0], got[0], 0, "the element before the view is untouched");
        }
    }

    // ---- argument checks ------------------------------------------------------------------------

    static void mismatchedShapes(Kernels kernels) {
        try (TensorList a = kernels.allocate(3, 4); TensorList b = kernels.allocate(3, 5); TensorList c = kernels.allocate(3)) {
            expectRefused(() -> kernels.accumulateSquare(a, b, 1f), "differ in shape");
            expectRefused(() -> kernels.ssdDampen(a, a, c, 1f, 1f), null);
            expectRefused(() -> kernels.ratioThresholdForFraction(a, a, 0f, 1.5), null);
            try (TensorList acc = kernels.allocate(6); TensorList g = kernels.allocate(2 * 2 * 5); TensorList u = kernels.allocate(2 * 3 * 5)) {
                kernels.accumulatePerSampleProducts(acc, g, u, 2, 2, 3, 5, false); // fits: accepted
                expectRefused(() -> kernels.accumulatePerSampleProducts(acc, g, u, 2, 3, 2, 5, false), "must be one tensor");
                expectRefused(() -> kernels.accumulatePerSampleProducts(a, g, u, 2, 2, 3, 5, false), "must be one tensor");
            }
            ConvGeometry geometry = conv(2, 1, 2, 2, 3, 1, 1, 0); // acc 3, g 2·2·2·3 = 24, a 2·2·2 = 8
            try (TensorList acc = kernels.allocate(3); TensorList g = kernels.allocate(24); TensorList x = kernels.allocate(8)) {
                kernels.accumulateConvPerSampleProducts(acc, g, x, geometry, false); // fits: accepted
                expectRefused(() -> kernels.accumulateConvPerSampleProducts(acc, x, g, geometry, false), "must be one tensor");
                expectRefused(() -> kernels.accumulateConvPerSampleProducts(a, g, x, geometry, false), "must be one tensor");
            }
        }
    }

    private static void expectRefused(Runnable call, String messagePart) {
        try {
            call.run();
        } catch (IllegalArgumentException e) {
            expectTrue(messagePart == null || String.valueOf(e.getMessage()).contains(messagePart),
                    "refused with '" + e.getMessage() + "', expected a message with '" + messagePart + "'");
            return;
        }
        throw new KernelMismatch("a call with mismatched arguments was not refused");
    }

    static void emptyLists(Kernels kernels) {
        try (TensorList a = kernels.allocate(); TensorList b = kernels.allocate()) {
            kernels.accumulateSquare(a, b, 1f);
            expectEqual(0, kernels.ssdDampen(a, a, b, 1f, 1f), "selected in an empty list");
            expectEqual(Float.POSITIVE_INFINITY, kernels.ratioThresholdForFraction(a, b, 0f, 0.5), 0, "threshold of an empty list");
            expectEqual(0, kernels.stats(a).length, "stats of an empty list");
            expectEqual(0, kernels.ratioShift(a, a, b, 1f, 1f, 1f).length, "alphas of an empty list");
        }
    }
}
