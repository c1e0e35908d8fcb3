package ai.lethe.model.zoo;

import java.util.SplittableRandom;

/**
 * PyTorch's default initialisations, drawn from a seeded Java generator so that a model is reproducible
 * from its seed on any machine.
 */
final class Init {

    private Init() {
    }

    /** nn.Linear / nn.Conv2d default: kaiming_uniform(a=√5) = U(−1/√fan_in, 1/√fan_in); the bias uses the same bound. */
    static float[] uniformFanIn(SplittableRandom r, int n, long fanIn) {
        double bound = 1.0 / Math.sqrt(fanIn);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextDouble(-bound, bound);
        }
        return a;
    }

    /** torchvision ResNet convolutions: kaiming_normal(mode=fan_out, nonlinearity=relu) = N(0, 2/fan_out). */
    static float[] kaimingNormalFanOut(SplittableRandom r, int n, long fanOut) {
        double std = Math.sqrt(2.0 / fanOut);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (gaussian(r) * std);
        }
        return a;
    }

    static float[] constant(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    static double gaussian(SplittableRandom r) {
        double u = r.nextDouble(Double.MIN_VALUE, 1);
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
