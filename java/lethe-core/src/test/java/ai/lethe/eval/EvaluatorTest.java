package ai.lethe.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class EvaluatorTest {

    @Test
    void entropyOfUniformAndPeakedOutputs() {
        assertEquals(Math.log(10), Evaluator.entropy(new float[10], 0, 10), 1e-12);
        float[] peaked = {100f, 0f, 0f, 0f};
        assertEquals(0, Evaluator.entropy(peaked, 0, 4), 1e-30 + 1e-40);
        float[] two = {9f, 1f, 5f, 5f};
        assertEquals(Math.log(2), Evaluator.entropy(two, 2, 2), 1e-12, "offset into a batch row");
    }

    @Test
    void logisticRegressionReachesTheOptimumOfItsObjective() {
        SplittableRandom r = new SplittableRandom(3);
        int n = 3000;
        double[] x = new double[n];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i < 600 ? 1 : 0; // imbalanced: the balanced weights must matter
            x[i] = (y[i] == 1 ? 0.4 : 1.1) + 0.5 * (r.nextDouble() - 0.5);
        }
        LogisticRegression lr = LogisticRegression.fit(x, y);
        double s1 = n / (2.0 * 600);
        double s0 = n / (2.0 * 2400);
        double gw = 0.5 * lr.weight();
        double gb = 0;
        for (int i = 0; i < n; i++) {
            double res = (y[i] == 1 ? s1 : s0) * (lr.probability(x[i]) - y[i]);
            gw += res * x[i];
            gb += res;
        }
        assertEquals(0, gw, 1e-8, "d objective / dw at the fit");
        assertEquals(0, gb, 1e-8, "d objective / db at the fit");
        assertTrue(lr.weight() < 0, "members have lower entropy here");
        assertEquals(1, lr.predict(0.4));
        assertEquals(0, lr.predict(1.1));
        assertThrows(IllegalArgumentException.class, () -> LogisticRegression.fit(new double[] {1, 2}, new int[] {1, 1}));
    }

    @Test
    void miaCallsLowEntropySamplesMembers() {
        double[] retain = new double[500];
        double[] test = new double[500];
        for (int i = 0; i < 500; i++) {
            retain[i] = 0.1 + i * 1e-4;
            test[i] = 1.0 + i * 1e-4;
        }
        assertEquals(1.0, Evaluator.mia(retain, test, new double[] {0.05, 0.2, 0.15}), 0);
        assertEquals(0.0, Evaluator.mia(retain, test, new double[] {1.5, 2.0}), 0);
        assertTrue(Double.isNaN(Evaluator.mia(new double[0], test, new double[] {1})));
    }
}
