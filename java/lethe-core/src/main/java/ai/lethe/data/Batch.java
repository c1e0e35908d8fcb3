package ai.lethe.data;

/**
 * A batch of samples in row-major order: {@code x} holds {@code size} samples of {@code sampleShape}, {@code y}
 * their labels, {@code indices} their positions in the split they came from.
 */
public record Batch(float[] x, int[] y, int[] indices, int size, int[] sampleShape) {

    /** Sample {@code i} alone, as a batch of one (the per-sample estimator's unit). */
    public Batch sample(int i) {
        int per = x.length / size;
        float[] xi = java.util.Arrays.copyOfRange(x, i * per, (i + 1) * per);
        return new Batch(xi, new int[] {y[i]}, new int[] {indices[i]}, 1, sampleShape);
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
