package ai.lethe.spark;

/** How D's indices [0, n) are cut into contiguous ranges, one per task. */
final class SampleRanges {

    private SampleRanges() {
    }

    /**
     * Bounds of at most {@code parts} non-empty ranges of near-equal size covering [0, n), every bound but the
     * last a multiple of {@code unit} (the batch size for batch-dependent estimators, so no batch is split).
     */
    static long[] cut(long n, int parts, int unit) {
        long units = (n + unit - 1) / unit;
        int k = (int) Math.max(1, Math.min(parts, units));
        long[] bounds = new long[k + 1];
        for (int i = 0; i <= k; i++) {
            bounds[i] = Math.min(n, (units * i / k) * unit);
        }
        return bounds;
    }

    /** Batches of size {@code batchSize} the ranges hold (each range's last batch may be partial). */
    static long batches(long[] bounds, int batchSize) {
        long total = 0;
        for (int i = 0; i + 1 < bounds.length; i++) {
            total += (bounds[i + 1] - bounds[i] + batchSize - 1) / batchSize;
        }
        return total;
    }

    static String describe(long[] bounds) {
        StringBuilder s = new StringBuilder();
        for (long b : bounds) {
            s.append(s.length() == 0 ? "" : ",").append(b);
        }
        return s.toString();
    }
}
