package ai.lethe.kernels;

/**
 * Statistics of one tensor: element count, sum and maximum of its finite values, and how many of its
 * values are NaN or infinite.
 *
 * @param count     number of elements
 * @param sum       sum of the finite elements
 * @param max       maximum of the finite elements ({@code -Infinity} when there is none)
 * @param nonFinite number of NaN or infinite elements
 */
public record TensorStats(long count, double sum, float max, long nonFinite) {

    /** Mean of the finite elements (NaN when there is none). */
    public double mean() {
        long finite = count - nonFinite;
        return finite == 0 ? Double.NaN : sum / finite;
    }

    /** The statistics of all the given tensors taken together. */
    public static TensorStats total(TensorStats... parts) {
        long count = 0;
        long nonFinite = 0;
        double sum = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (TensorStats s : parts) {
            count += s.count;
            nonFinite += s.nonFinite;
            sum += s.sum;
            max = Math.max(max, s.max);
        }
        return new TensorStats(count, sum, max, nonFinite);
    }
}
