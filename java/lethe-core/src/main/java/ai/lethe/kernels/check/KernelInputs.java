package ai.lethe.kernels.check;

import java.util.SplittableRandom;

/** Seeded inputs for kernel checks: odd sizes, mixed lists, and the special values the kernels must survive. */
public final class KernelInputs {

    /** Sizes from the kernel issue: empty, single, below/at/above a vector width, odd tile remainders, and large. */
    public static final int[] ODD_SIZES = {0, 1, 7, 15, 16, 17, 65, 4097, 1_000_003};

    private KernelInputs() {
    }

    /** Many tensors of mixed sizes (zeros included), as a model's parameter list looks. */
    public static long[] mixedSizes(long seed, int count) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] sizes = new long[count];
        for (int i = 0; i < count; i++) {
            int kind = r.nextInt(10);
            sizes[i] = kind == 0 ? 0 : kind < 6 ? r.nextInt(1, 70) : kind < 9 ? r.nextInt(70, 9000) : r.nextInt(9000, 300_000);
        }
        return sizes;
    }

    /** Normal values with every sign, a share of exact zeros, denormals and large magnitudes. */
    public static float[] signed(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            int kind = r.nextInt(20);
            a[i] = switch (kind) {
                case 0 -> 0f;
                case 1 -> (float) (r.nextInt(1, 1000) * Float.MIN_VALUE) * (r.nextBoolean() ? 1 : -1); // denormal
                case 2 -> (float) (r.nextDouble(-1, 1) * 1e6);
                default -> (float) (gaussian(r) * Math.pow(10, r.nextDouble(-4, 1)));
            };
        }
        return a;
    }

    /** Non-negative importances spread over many decades, with exact zeros and denormals. */
    public static float[] importance(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            int kind = r.nextInt(20);
            if (kind == 0) {
                a[i] = 0f;
            } else if (kind == 1) {
                a[i] = (float) (r.nextInt(1, 1000) * (double) Float.MIN_VALUE);
            } else {
                double g = gaussian(r);
                a[i] = (float) (g * g * Math.pow(10, r.nextDouble(-8, 1)));
            }
        }
        return a;
    }

    /** An importance that is close to {@code base}: a ratio spread around 1 so that selections are mixed. */
    public static float[] importanceNear(SplittableRandom r, float[] base) {
        float[] a = new float[base.length];
        for (int i = 0; i < a.length; i++) {
            int kind = r.nextInt(20);
            if (kind == 0) {
                a[i] = 0f;
            } else if (kind == 1) {
                a[i] = (float) (r.nextInt(1, 1000) * (double) Float.MIN_VALUE);
            } else {
                a[i] = (float) (base[i] * Math.pow(10, r.nextDouble(-2, 2)));
            }
        }
        return a;
    }

    /**
     * {@code x} with NaN, +inf and −inf at every 1013th element (from a per-tensor offset): element-wise kernels
     * must propagate them exactly as the reference does.
     */
    public static float[][] withNonFinite(float[][] x) {
        for (int t = 0; t < x.length; t++) {
            for (int j = (t * 7) % 1013; j < x[t].length; j += 1013) {
                int k = (j / 1013 + t) % 3;
                x[t][j] = k == 0 ? Float.NaN : k == 1 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
            }
        }
        return x;
    }

    public static float[][] signedList(SplittableRandom r, long[] sizes) {
        float[][] out = new float[sizes.length][];
        for (int i = 0; i < sizes.length; i++) {
            out[i] = signed(r, (int) sizes[i]);
        }
        return out;
    }

    public static float[][] importanceList(SplittableRandom r, long[] sizes) {
        float[][] out = new float[sizes.length][];
        for (int i = 0; i < sizes.length; i++) {
            out[i] = importance(r, (int) sizes[i]);
        }
        return out;
    }

    public static float[][] importanceNearList(SplittableRandom r, float[][] base) {
        float[][] out = new float[base.length][];
        for (int i = 0; i < base.length; i++) {
            out[i] = importanceNear(r, base[i]);
        }
        return out;
    }

    public static float[][] deepCopy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }

    private static double gaussian(SplittableRandom r) {
        // Box-Muller: SplittableRandom has no nextGaussian on Java 17.
        double u = r.nextDouble(Double.MIN_VALUE, 1);
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
