package ai.lethe.spark;

import java.io.Serializable;
import java.util.Arrays;

/**
 * A partial importance as it travels through the reduction: the sums (whole tensors, or one chunk of the
 * flattened parameters), the count the estimator normalises by, the samples seen, and which pieces of D it
 * covers (half-open ranges of sample indices, or of partition numbers for a Spark Dataset). Merging refuses
 * overlapping pieces: a piece counted twice (a retried or resubmitted task whose result was added twice) would
 * otherwise go unnoticed, and the driver checks that the pieces tile D exactly.
 */
final class PartialSum implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Sorted, disjoint [from, to) pairs, flattened. */
    final long[] ranges;
    final long count;
    final long samples;
    final float[][] sums;
    /** The devices the tasks ran on ("cpu", "cuda:0", ...), sorted, each once. */
    final String[] devices;
    /** The Spark executors the tasks ran in ("driver" in local mode), sorted, each once. */
    final String[] executors;

    PartialSum(long[] ranges, long count, long samples, float[][] sums, String[] devices, String[] executors) {
        this.ranges = ranges;
        this.count = count;
        this.samples = samples;
        this.sums = sums;
        this.devices = devices;
        this.executors = executors;
    }

    static PartialSum of(long from, long to, long count, long samples, float[][] sums, String device) {
        org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
        return new PartialSum(new long[] {from, to}, count, samples, sums, new String[] {device},
                new String[] {env == null ? "none" : env.executorId()});
    }

    /** The same pieces and counts with other sums (one chunk of these, for example). */
    PartialSum withSums(float[][] other) {
        return new PartialSum(ranges, count, samples, other, devices, executors);
    }

    /** The sum of two partials over disjoint pieces; adds into this one's arrays (Spark's reduce may reuse them). */
    PartialSum merge(PartialSum other) {
        if (sums.length != other.sums.length) {
            throw new IllegalStateException("partial sums of " + sums.length + " and " + other.sums.length + " tensors");
        }
        long[] merged = mergeRanges(ranges, other.ranges);
        for (int t = 0; t < sums.length; t++) {
            float[] a = sums[t];
            float[] b = other.sums[t];
            if (a.length != b.length) {
                throw new IllegalStateException("partial sums of tensor " + t + " differ in size: " + a.length + " vs " + b.length);
            }
            for (int j = 0; j < a.length; j++) {
                a[j] += b[j];
            }
        }
        return new PartialSum(merged, count + other.count, samples + other.samples, sums, union(devices, other.devices),
                union(executors, other.executors));
    }

    private static String[] union(String[] a, String[] b) {
        java.util.TreeSet<String> all = new java.util.TreeSet<>(Arrays.asList(a));
        all.addAll(Arrays.asList(b));
        return all.toArray(new String[0]);
    }

    /** The union of two sorted disjoint range lists, adjacent ranges joined; fails when they overlap. */
    static long[] mergeRanges(long[] a, long[] b) {
        long[] all = new long[a.length + b.length];
        int i = 0;
        int j = 0;
        int n = 0;
        while (i < a.length || j < b.length) {
            boolean takeA = j >= b.length || (i < a.length && a[i] <= b[j]);
            long from = takeA ? a[i] : b[j];
            long to = takeA ? a[i + 1] : b[j + 1];
            if (takeA) {
                i += 2;
            } else {
                j += 2;
            }
            if (n > 0 && from < all[n - 1]) {
                throw new IllegalStateException("pieces [" + from + ", " + to + ") and [" + all[n - 2] + ", " + all[n - 1]
                        + ") of the data overlap: a partial sum would be counted twice");
            }
            if (n > 0 && from == all[n - 1]) {
                all[n - 1] = to;
            } else {
                all[n++] = from;
                all[n++] = to;
            }
        }
        return Arrays.copyOf(all, n);
    }

    /** True when the pieces are exactly [0, total). */
    boolean covers(long total) {
        return total == 0 ? ranges.length == 0 : ranges.length == 2 && ranges[0] == 0 && ranges[1] == total;
    }

    String describeRanges() {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < ranges.length; i += 2) {
            s.append(s.length() == 0 ? "" : " ").append('[').append(ranges[i]).append(", ").append(ranges[i + 1]).append(')');
        }
        return s.length() == 0 ? "nothing" : s.toString();
    }
}
