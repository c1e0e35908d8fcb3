package ai.lethe.importance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import ai.lethe.kernels.HostTensors;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.ScalarKernels;
import ai.lethe.kernels.TensorList;

/** The cascade keeps a long pass's fp32 sum close to the exact one; short passes add in plain order as before. */
class CascadeSumTest {

    private static float[][] batch(SplittableRandom r, int n) {
        float[] g = new float[n];
        for (int j = 0; j < n; j++) {
            g[j] = (float) (0.5 + r.nextDouble()); // squared gradients of similar size: where a running sum drifts most
        }
        return new float[][] {g};
    }

    @Test
    void aLongPassStaysCloseToTheExactSumWhereARunningSumDrifts() {
        int n = 4096;
        int batches = 1000;
        SplittableRandom r = new SplittableRandom(3);
        double[] exact = new double[n];
        float[] naive = new float[n];
        try (Kernels k = new ScalarKernels(); CascadeSum sum = new CascadeSum(k, new long[] {n})) {
            for (int b = 0; b < batches; b++) {
                float[][] g = batch(r, n);
                for (int j = 0; j < n; j++) {
                    exact[j] += g[0][j];
                    naive[j] += g[0][j];
                }
                k.scaleAdd(sum.current(), HostTensors.wrap(g), 1f);
                sum.added();
            }
            float[] cascade = k.download(sum.total())[0];
            double naiveErr = 0;
            double cascadeErr = 0;
            for (int j = 0; j < n; j++) {
                naiveErr = Math.max(naiveErr, Math.abs(naive[j] - exact[j]) / exact[j]);
                cascadeErr = Math.max(cascadeErr, Math.abs(cascade[j] - exact[j]) / exact[j]);
            }
            assertTrue(cascadeErr < 1e-6, "cascade: max relative error " + cascadeErr);
            assertTrue(cascadeErr * 10 < naiveErr, "cascade " + cascadeErr + " against a running sum " + naiveErr);
        }
    }

    @Test
    void passesOfAtMostOneBlockAddInPlainOrder() {
        SplittableRandom r = new SplittableRandom(5);
        float[] naive = new float[65];
        try (Kernels k = new ScalarKernels(); CascadeSum sum = new CascadeSum(k, new long[] {65})) {
            for (int b = 0; b < CascadeSum.BLOCK; b++) {
                float[][] g = batch(r, 65);
                for (int j = 0; j < 65; j++) {
                    naive[j] += g[0][j];
                }
                TensorList in = HostTensors.wrap(g);
                k.scaleAdd(sum.current(), in, 1f);
                sum.added();
            }
            assertArrayEquals(naive, k.download(sum.total())[0]);
        }
    }
}
