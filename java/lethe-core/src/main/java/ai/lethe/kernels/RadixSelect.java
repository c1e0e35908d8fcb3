package ai.lethe.kernels;

/**
 * Finds the k-th largest value of a large set without sorting it: three histogram passes over
 * 11, 11 and 10 bits of the order-preserving keys ({@link RatioKeys}), each narrowing the search to
 * the bin that holds the k-th largest key. The back ends only supply the histogram pass.
 */
public final class RadixSelect {

    /** Bit ranges of the passes, most significant first: {shift, bits}. */
    static final int[][] PASSES = {{21, 11}, {10, 11}, {0, 10}};

    /** One histogram pass, as {@link Kernels#ratioHistogram} computes it. */
    @FunctionalInterface
    public interface HistogramPass {
        long[] histogram(int shift, int bits, int prefix, int prefixMask);
    }

    private RadixSelect() {
    }

    /** See {@link Kernels#ratioThresholdForFraction}. */
    public static float thresholdForFraction(long total, double fraction, HistogramPass pass) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException("fraction must be within [0, 1], got " + fraction);
        }
        long k = Math.round(fraction * total);
        if (k == 0) {
            return Float.POSITIVE_INFINITY;
        }
        int key = kthLargestKey(k, pass);
        // Key 0 is NaN (lowest): k reaches past every other ratio, so all of them are selected.
        return key == 0 ? -Float.MAX_VALUE : Math.nextDown(RatioKeys.value(key));
    }

    /** The key of the k-th largest element (1-based), given at least k elements. */
    static int kthLargestKey(long k, HistogramPass pass) {
        int prefix = 0;
        int prefixMask = 0;
        long remaining = k;
        for (int[] p : PASSES) {
            int shift = p[0];
            int bits = p[1];
            long[] bins = pass.histogram(shift, bits, prefix, prefixMask);
            int bin = bins.length - 1;
            while (bin > 0 && remaining > bins[bin]) {
                remaining -= bins[bin];
                bin--;
            }
            if (remaining > bins[bin]) {
                throw new IllegalStateException("histogram holds fewer elements than k = " + k);
            }
            prefix |= bin << shift;
            prefixMask |= ((1 << bits) - 1) << shift;
        }
        return prefix;
    }
}
