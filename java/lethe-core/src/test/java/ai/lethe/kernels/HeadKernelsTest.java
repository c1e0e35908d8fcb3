package ai.lethe.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * The vector {@link HeadKernels} against the scalar reference, and the reference against per-sample gradients
 * formed one sample at a time by finite differences of its own loss: seeded inputs, odd sizes (1, 7, 65 samples;
 * widths around the vector width and past whole blocks; hidden sizes that do and do not fill blocks of four),
 * cross-entropy and the label-free loss, squares and absolute values. {@link #failures} is also run at a forced
 * 128-bit width by {@link VectorFallbackTest}.
 */
class HeadKernelsTest {

    /** samples, in, hidden, classes */
    static final int[][] SIZES = {{1, 1, 1, 1}, {7, 1568, 64, 10}, {65, 37, 5, 3}, {4, 16, 17, 2}, {3, 129, 8, 7}, {0, 8, 4, 2}};

    @Test
    void vectorKernelsEqualTheReference() {
        List<String> failed = failures(HeadKernels.vector());
        assertTrue(failed.isEmpty(), String.join("\n", failed));
    }

    /** Every size, loss and f of this class on {@code kernels} against the reference; the messages of those that failed. */
    static List<String> failures(HeadKernels kernels) {
        List<String> failed = new ArrayList<>();
        long seed = 1;
        for (int[] s : SIZES) {
            for (boolean labelFree : new boolean[] {false, true}) {
                for (boolean absolute : new boolean[] {false, true}) {
                    try {
                        check(kernels, s, labelFree, absolute, seed++);
                    } catch (AssertionError | RuntimeException e) {
                        failed.add(java.util.Arrays.toString(s) + " labelFree=" + labelFree + " absolute=" + absolute + ": " + e.getMessage());
                    }
                }
            }
        }
        return failed;
    }

    private static void check(HeadKernels kernels, int[] s, boolean labelFree, boolean absolute, long seed) {
        int n = s[0], in = s[1], hidden = s[2], classes = s[3];
        SplittableRandom r = new SplittableRandom(seed);
        float[] input = values(r, n * in, 1), w1 = values(r, hidden * in, 1 / Math.sqrt(in)), b1 = values(r, hidden, 0.1);
        float[] w2 = values(r, classes * hidden, 1 / Math.sqrt(hidden)), b2 = values(r, classes, 0.1);
        int[] labels = labelFree ? null : r.ints(n, 0, classes).toArray();
        float[][] ref = run(HeadKernels.scalar(), n, in, hidden, classes, input, w1, b1, w2, b2, labels, absolute);
        float[][] got = run(kernels, n, in, hidden, classes, input, w1, b1, w2, b2, labels, absolute);
        String[] names = {"w1 sums", "b1 sums", "w2 sums", "b2 sums", "input gradient"};
        for (int i = 0; i < names.length; i++) {
            PooledConvKernelsTest.close(names[i], ref[i], got[i]);
        }
    }

    /** The four sums (starting from non-zero values: the kernels add) and the input gradient. */
    private static float[][] run(HeadKernels k, int n, int in, int hidden, int classes, float[] input, float[] w1, float[] b1, float[] w2,
                                 float[] b2, int[] labels, boolean absolute) {
        float[] s1 = filled(hidden * in), sb1 = filled(hidden), s2 = filled(classes * hidden), sb2 = filled(classes);
        float[] grad = new float[n * in];
        k.backward(n, in, hidden, classes, input, w1, b1, w2, b2, labels, absolute, s1, sb1, s2, sb2, grad);
        return new float[][] {s1, sb1, s2, sb2, grad};
    }

    private static float[] filled(int size) {
        float[] a = new float[size];
        java.util.Arrays.fill(a, 0.5f);
        return a;
    }

    private static float[] values(SplittableRandom r, int size, double scale) {
        float[] v = new float[size];
        for (int i = 0; i < size; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return v;
    }

    /** The reference's per-sample gradients against central differences of one sample's loss, in double. */
    @Test
    void theReferenceGradientsAreTheLossesDerivatives() {
        int in = 6, hidden = 5, classes = 4;
        SplittableRandom r = new SplittableRandom(7);
        float[] input = values(r, in, 1), w1 = values(r, hidden * in, 0.5), b1 = values(r, hidden, 0.5);
        float[] w2 = values(r, classes * hidden, 0.5), b2 = values(r, classes, 0.5);
        for (int[] labels : new int[][] {{2}, null}) {
            float[][] got = run(HeadKernels.scalar(), 1, in, hidden, classes, input, w1, b1, w2, b2, labels, false);
            // w1[j][f]: the sum holds 0.5 + g², so g² = sum − 0.5
            for (int i = 0; i < w1.length; i++) {
                double g = derivative(w1, i, () -> loss(input, w1, b1, w2, b2, labels));
                assertTrue(Math.abs(got[0][i] - 0.5 - g * g) <= 1e-4 + 1e-3 * g * g, "w1[" + i + "]: " + (got[0][i] - 0.5) + " vs " + g * g);
            }
            for (int i = 0; i < w2.length; i++) {
                double g = derivative(w2, i, () -> loss(input, w1, b1, w2, b2, labels));
                assertTrue(Math.abs(got[2][i] - 0.5 - g * g) <= 1e-4 + 1e-3 * g * g, "w2[" + i + "]");
            }
            for (int i = 0; i < in; i++) {
                double g = derivative(input, i, () -> loss(input, w1, b1, w2, b2, labels));
                assertTrue(Math.abs(got[4][i] - g) <= 1e-3 + 1e-3 * Math.abs(g), "input[" + i + "]: " + got[4][i] + " vs " + g);
            }
        }
    }

    private static double derivative(float[] a, int i, java.util.function.DoubleSupplier f) {
        float keep = a[i];
        double h = 1e-3;
        a[i] = (float) (keep + h);
        double up = f.getAsDouble();
        a[i] = (float) (keep - h);
        double down = f.getAsDouble();
        a[i] = keep;
        return (up - down) / (2 * h);
    }

    private static double loss(float[] x, float[] w1, float[] b1, float[] w2, float[] b2, int[] labels) {
        int in = x.length, hidden = b1.length, classes = b2.length;
        double[] h = new double[hidden], logits = new double[classes];
        for (int j = 0; j < hidden; j++) {
            double z = b1[j];
            for (int f = 0; f < in; f++) {
                z += (double) w1[j * in + f] * x[f];
            }
            h[j] = Math.max(z, 0);
        }
        double max = Double.NEGATIVE_INFINITY, squares = 0;
        for (int c = 0; c < classes; c++) {
            double z = b2[c];
            for (int j = 0; j < hidden; j++) {
                z += h[j] * w2[c * hidden + j];
            }
            logits[c] = z;
            max = Math.max(max, z);
            squares += z * z;
        }
        if (labels == null) {
            return squares;
        }
        double total = 0;
        for (double z : logits) {
            total += Math.exp(z - max);
        }
        return -(logits[labels[0]] - max - Math.log(total));
    }

    @Test
    void wrongSizesAndLabelsAreRefused() {
        float[] ok = new float[1000];
        for (HeadKernels k : new HeadKernels[] {HeadKernels.scalar(), HeadKernels.vector()}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> k.backward(2, 10, 4, 3, new float[19], ok, ok, ok, ok, null, false, ok, ok, ok, ok, ok));
            assertTrue(e.getMessage().contains("input holds 19 floats, needs 20"), e.getMessage());
            IllegalArgumentException label = assertThrows(IllegalArgumentException.class,
                    () -> k.backward(2, 10, 4, 3, ok, ok, ok, ok, ok, new int[] {0, 3}, false, ok, ok, ok, ok, ok));
            assertTrue(label.getMessage().contains("label 3 of sample 1 is not a class (0..2)"), label.getMessage());
            assertThrows(IllegalArgumentException.class, () -> k.backward(1, 0, 4, 3, ok, ok, ok, ok, ok, null, false, ok, ok, ok, ok, ok));
        }
    }
}
