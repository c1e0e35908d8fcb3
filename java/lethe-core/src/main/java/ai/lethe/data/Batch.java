package ai.lethe.data;

/**
 * A batch of samples in row-major order: {@code x} holds {@code size} samples of {@code sampleShape}, {@code y}
 * their labels, {@code indices} their positions in the split they came from. A batch of a {@link ResidentSamples}
 * data set has an empty {@code x} and names that data set as its {@code source}: the samples are rows
 * {@code indices} of the tensor the data set holds on the device.
 */
public record Batch(float[] x, int[] y, int[] indices, int size, int[] sampleShape, ResidentSamples source) {

    private static final float[] NONE = new float[0];

    /** A batch whose samples are in {@code x}. */
    public Batch(float[] x, int[] y, int[] indices, int size, int[] sampleShape) {
        this(x, y, indices, size, sampleShape, null);
    }

    /** A batch of rows of a resident data set: no samples on the host. */
    public static Batch ofResident(ResidentSamples source, int[] y, int[] indices, int size) {
        return new Batch(NONE, y, indices, size, source.sampleShape(), source);
    }

    /** True when the samples are rows of a resident data set rather than in {@link #x()}. */
    public boolean resident() {
        return source != null;
    }

    /** Sample {@code i} alone, as a batch of one (the per-sample estimator's unit). */
    public Batch sample(int i) {
        if (resident()) {
            return new Batch(NONE, new int[] {y[i]}, new int[] {indices[i]}, 1, sampleShape, source);
        }
        int per = x.length / size;
        float[] xi = java.util.Arrays.copyOfRange(x, i * per, (i + 1) * per);
        return new Batch(xi, new int[] {y[i]}, new int[] {indices[i]}, 1, sampleShape);
    }

    /** The first {@code k} samples (1 to size) as a batch; the batch itself when that is all of them. */
    public Batch first(int k) {
        if (k < 1 || k > size) {
            throw new IllegalArgumentException("first " + k + " of a batch of " + size);
        }
        if (k == size) {
            return this;
        }
        int[] yk = java.util.Arrays.copyOf(y, k);
        int[] ik = java.util.Arrays.copyOf(indices, k);
        return resident() ? new Batch(NONE, yk, ik, k, sampleShape, source)
                : new Batch(java.util.Arrays.copyOf(x, k * (x.length / size)), yk, ik, k, sampleShape);
    }

    /** The shape of x as a tensor: [size, sampleShape...]. */
    public long[] shape() {
        long[] s = new long[sampleShape.length + 1];
        s[0] = size;
        for (int i = 0; i < sampleShape.length; i++) {
            s[i + 1] = sampleShape[i];
        }
        return s;
    }
}
