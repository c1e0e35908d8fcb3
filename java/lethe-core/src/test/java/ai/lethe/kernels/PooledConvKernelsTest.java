package ai.lethe.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * The vector {@link PooledConvKernels} against the scalar reference (and the reference against a plain dense
 * backward, and its fused forward against the convolution then the pool): seeded inputs, odd sizes (1, 7, 65 samples; channel counts around the vector width; windows of 1, 2, 3
 * and 5; outputs whose rows are and are not whole vectors), max-pool ties, NaN, squares and absolute values, one
 * and several threads. {@link #failures} is also run at a forced 128-bit width by {@link VectorFallbackTest}.
 */
class PooledConvKernelsTest {

    /** samples, in channels, in height, in width, out channels, kernel, padding */
    static final int[][] GEOMETRIES = {
        {1, 1, 2, 2, 1, 1, 0},
        {7, 1, 28, 28, 16, 3, 1},   // the cnn's conv1
        {65, 16, 14, 14, 32, 3, 1}, // the cnn's conv2
        {7, 3, 10, 8, 7, 3, 0},
        {5, 16, 6, 10, 17, 3, 1},
        {3, 5, 7, 7, 33, 2, 0},
        {4, 8, 6, 6, 16, 5, 2},
        {2, 32, 4, 4, 4, 1, 0},
        {0, 16, 4, 4, 8, 3, 1},
    };

    @Test
    void vectorKernelsEqualTheReference() {
        List<String> failed = failures(PooledConvKernels.vector(1));
        failed.addAll(failures(PooledConvKernels.vector(3)));
        assertTrue(failed.isEmpty(), String.join("\n", failed));
    }

    /** Every check of this class on {@code kernels}; the messages of those that failed. */
    static List<String> failures(PooledConvKernels kernels) {
        List<String> failed = new ArrayList<>();
        long seed = 1;
        for (int[] s : GEOMETRIES) {
            PooledConvGeometry g = new PooledConvGeometry(s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
            for (boolean ties : new boolean[] {false, true}) {
                for (boolean absolute : new boolean[] {false, true}) {
                    try {
                        check(kernels, g, ties, absolute, seed++);
                    } catch (AssertionError | RuntimeException e) {
                        failed.add(g + " ties=" + ties + " absolute=" + absolute + ": " + e.getMessage());
                    }
                }
            }
        }
        return failed;
    }

    private static void check(PooledConvKernels kernels, PooledConvGeometry g, boolean ties, boolean absolute, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = g.samples(), out = n * g.pooledPerSample();
        // integer-valued outputs make ties (and zeros) common; Gaussian ones almost never tie
        float[] conv = values(r, 4 * out, ties);
        float[] pooled = new float[out], winner = new float[out];
        float[] pooledRef = new float[out], winnerRef = new float[out];
        kernels.poolRelu(conv, n, g.outHeight(), g.outWidth(), g.outChannels(), pooled, winner);
        PooledConvKernels.scalar().poolRelu(conv, n, g.outHeight(), g.outWidth(), g.outChannels(), pooledRef, winnerRef);
        assertArrayEquals(pooledRef, pooled, "pooled values");
        assertArrayEquals(winnerRef, winner, "winners");
        float[] input = values(r, n * g.inputPerSample(), false);
        float[] weight = values(r, g.weightSize(), false);
        float[] grad = values(r, out, false);
        float[] sums = values(r, g.weightSize(), false); // the kernels add to what is there
        float[] bias = values(r, g.outChannels(), false);
        float[] sumsRef = sums.clone(), biasRef = bias.clone();
        float[] inputGrad = new float[input.length], inputGradRef = new float[input.length];
        kernels.backward(g, input, weight, grad, pooled, winner, absolute, sums, bias, inputGrad);
        PooledConvKernels.scalar().backward(g, input, weight, grad, pooledRef, winnerRef, absolute, sumsRef, biasRef, inputGradRef);
        close("weight sums", sumsRef, sums);
        close("bias sums", biasRef, bias);
        close("input gradient", inputGradRef, inputGrad);
        // the fused forward: the same fp32 operations in the same order, so bit for bit (integer values: many ties)
        float[] fwdInput = values(r, n * g.inputPerSample(), ties);
        float[] fwdWeight = values(r, g.weightSize(), ties), fwdBias = values(r, g.outChannels(), ties);
        kernels.convPoolRelu(g, fwdInput, fwdWeight, fwdBias, pooled, winner);
        PooledConvKernels.scalar().convPoolRelu(g, fwdInput, fwdWeight, fwdBias, pooledRef, winnerRef);
        assertArrayEquals(pooledRef, pooled, "fused forward: pooled values");
        assertArrayEquals(winnerRef, winner, "fused forward: winners");
    }

    private static float[] values(SplittableRandom r, int size, boolean integers) {
        float[] v = new float[size];
        for (int i = 0; i < size; i++) {
            v[i] = integers ? r.nextInt(-2, 3) : (float) r.nextGaussian();
        }
        return v;
    }

    /** |got − ref| ≤ 1e-5·|ref| + 1e-6·max|ref| element by element. */
    static void close(String what, float[] ref, float[] got) {
        assertEquals(ref.length, got.length, what + " length");
        double scale = 0;
        for (float v : ref) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < ref.length; i++) {
            double tol = 1e-5 * Math.abs(ref[i]) + 1e-6 * scale;
            if (!(Math.abs(got[i] - ref[i]) <= tol)) {
                throw new AssertionError(what + "[" + i + "]: " + got[i] + ", reference " + ref[i]);
            }
        }
    }

    @Test
    void theReferenceEqualsADenseBackward() {
        // the reference's winner bookkeeping against the textbook: a dense output gradient (zero except at winners
        // the ReLU passed), then every output position's window
        PooledConvGeometry g = new PooledConvGeometry(3, 2, 6, 4, 3, 3, 1);
        SplittableRandom r = new SplittableRandom(7);
        int n = g.samples(), oh = g.outHeight(), ow = g.outWidth(), co = g.outChannels(), ci = g.inChannels(), k = 3;
        float[] conv = values(r, 4 * n * g.pooledPerSample(), false);
        float[] pooled = new float[n * g.pooledPerSample()], winner = new float[pooled.length];
        PooledConvKernels.scalar().poolRelu(conv, n, oh, ow, co, pooled, winner);
        float[] input = values(r, n * g.inputPerSample(), false), weight = values(r, g.weightSize(), false);
        float[] grad = values(r, pooled.length, false);
        float[] sums = new float[g.weightSize()], bias = new float[co], inputGrad = new float[input.length];
        PooledConvKernels.scalar().backward(g, input, weight, grad, pooled, winner, false, sums, bias, inputGrad);
        double[] expected = new double[sums.length];
        double[] expectedBias = new double[co];
        double[] expectedInput = new double[input.length];
        for (int s = 0; s < n; s++) {
            double[] dense = new double[oh * ow * co];
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    for (int o = 0; o < co; o++) {
                        int q = ((s * (oh / 2) + y / 2) * (ow / 2) + x / 2) * co + o;
                        boolean wins = (int) winner[q] == 2 * (y % 2) + x % 2;
                        dense[(y * ow + x) * co + o] = wins && pooled[q] > 0 ? grad[q] : 0;
                    }
                }
            }
            double[] w = new double[sums.length];
            double[] b = new double[co];
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    for (int o = 0; o < co; o++) {
                        double d = dense[(y * ow + x) * co + o];
                        b[o] += d;
                        for (int c = 0; c < ci; c++) {
                            for (int ky = 0; ky < k; ky++) {
                                for (int kx = 0; kx < k; kx++) {
                                    int iy = y + ky - 1, ix = x + kx - 1;
                                    if (iy >= 0 && iy < g.inHeight() && ix >= 0 && ix < g.inWidth()) {
                                        int a = s * g.inputPerSample() + (iy * g.inWidth() + ix) * ci + c;
                                        int wi = ((o * ci + c) * k + ky) * k + kx;
                                        w[wi] += d * input[a];
                                        expectedInput[a] += d * weight[wi];
                                    }
                                }
                            }
                        }
                    }
                }
            }
            for (int j = 0; j < w.length; j++) {
                expected[j] += w[j] * w[j];
            }
            for (int o = 0; o < co; o++) {
                expectedBias[o] += b[o] * b[o];
            }
        }
        close("weight sums", toFloats(expected), sums);
        close("bias sums", toFloats(expectedBias), bias);
        close("input gradient", toFloats(expectedInput), inputGrad);
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    @Test
    void theReferenceForwardIsTheConvolutionThenThePool() {
        SplittableRandom r = new SplittableRandom(11);
        for (int[] s : GEOMETRIES) {
            PooledConvGeometry g = new PooledConvGeometry(s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
            int n = g.samples(), cin = g.inChannels(), cout = g.outChannels(), k = g.kernel(), pad = g.padding();
            int outH = g.outHeight(), outW = g.outWidth();
            float[] input = values(r, n * g.inputPerSample(), false);
            float[] weight = values(r, g.weightSize(), false), bias = values(r, cout, false);
            float[] conv = new float[n * outH * outW * cout]; // in double, rounded once: the textbook convolution
            for (int i = 0; i < n; i++) {
                for (int y = 0; y < outH; y++) {
                    for (int x = 0; x < outW; x++) {
                        for (int o = 0; o < cout; o++) {
                            double acc = bias[o];
                            for (int c = 0; c < cin; c++) {
                                for (int ky = 0; ky < k; ky++) {
                                    for (int kx = 0; kx < k; kx++) {
                                        int iy = y + ky - pad, ix = x + kx - pad;
                                        if (iy >= 0 && iy < g.inHeight() && ix >= 0 && ix < g.inWidth()) {
                                            acc += (double) weight[((o * cin + c) * k + ky) * k + kx]
                                                    * input[i * g.inputPerSample() + (iy * g.inWidth() + ix) * cin + c];
                                        }
                                    }
                                }
                            }
                            conv[((i * outH + y) * outW + x) * cout + o] = (float) acc;
                        }
                    }
                }
            }
            int out = n * g.pooledPerSample();
            float[] pooled = new float[out], winner = new float[out], pooledRef = new float[out], winnerRef = new float[out];
            PooledConvKernels.scalar().convPoolRelu(g, input, weight, bias, pooled, winner);
            PooledConvKernels.scalar().poolRelu(conv, n, outH, outW, cout, pooledRef, winnerRef);
            close(g + ": pooled values", pooledRef, pooled);
            assertArrayEquals(winnerRef, winner, g + ": winners (Gaussian values: no near ties)");
        }
    }

    @Test
    void aWindowHoldingNaNPoolsToNaN() {
        int channels = 17; // a vector's worth and a tail at 512 bits, more elsewhere
        float[] conv = new float[4 * channels];
        for (int p = 0; p < 4; p++) {
            for (int c = 0; c < channels; c++) {
                conv[p * channels + c] = -1f - p; // the maximum, -1, at position 0: the ReLU gives 0
            }
        }
        conv[channels] = Float.NaN; // channel 0, position 1
        conv[3 * channels + 16] = Float.NaN; // channel 16, position 3
        for (PooledConvKernels k : new PooledConvKernels[] {PooledConvKernels.scalar(), PooledConvKernels.vector(1)}) {
            float[] pooled = new float[channels], winner = new float[channels];
            k.poolRelu(conv, 1, 2, 2, channels, pooled, winner);
            assertTrue(Float.isNaN(pooled[0]) && Float.isNaN(pooled[16]), "channels 0 and 16 hold NaN");
            for (int c = 1; c < 16; c++) {
                assertEquals(0f, pooled[c], "channel " + c);
                assertEquals(0f, winner[c], "channel " + c + ": -1 is the first position");
            }
        }
    }

    @Test
    void wrongSizesAreRefused() {
        PooledConvGeometry g = new PooledConvGeometry(2, 3, 4, 4, 5, 3, 1);
        float[] ok = new float[1000];
        for (PooledConvKernels k : new PooledConvKernels[] {PooledConvKernels.scalar(), PooledConvKernels.vector(2)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> k.backward(g, new float[10], ok, ok, ok, ok, false, ok, ok, null));
            assertTrue(e.getMessage().contains("input holds 10 floats, needs 96"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> k.poolRelu(ok, 1, 3, 4, 2, ok, ok)); // odd height
            assertThrows(IllegalArgumentException.class, () -> k.poolRelu(new float[31], 1, 4, 4, 2, ok, ok));
            IllegalArgumentException bias = assertThrows(IllegalArgumentException.class, () -> k.convPoolRelu(g, ok, ok, new float[4], ok, ok));
            assertTrue(bias.getMessage().contains("bias holds 4 floats, needs 5"), bias.getMessage());
        }
        IllegalArgumentException odd = assertThrows(IllegalArgumentException.class, () -> new PooledConvGeometry(1, 1, 5, 4, 1, 3, 1));
        assertTrue(odd.getMessage().contains("even output size, got 5x4"), odd.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new PooledConvGeometry(-1, 1, 4, 4, 1, 3, 1));
        assertThrows(IllegalArgumentException.class, () -> PooledConvKernels.vector(0));
    }
}
