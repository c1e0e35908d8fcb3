package ai.lethe.kernels;

/**
 * A stride-1 square-kernel convolution whose output goes through a 2×2 max-pool of stride 2 and then a ReLU, for
 * {@link PooledConvKernels}: {@code samples} inputs of {@code inChannels × inHeight × inWidth} padded by
 * {@code padding} zeros on every side, outputs of {@code outChannels × outHeight × outWidth}, pooled to
 * {@code outHeight/2 × outWidth/2}. Operands are channels-last (NHWC), as the zoo cnn keeps its activations.
 */
public record PooledConvGeometry(int samples, int inChannels, int inHeight, int inWidth, int outChannels, int kernel,
                                 int padding) {

    /** Throws unless the sizes are non-negative and the convolution's output has an even, non-zero height and width. */
    public PooledConvGeometry {
        if (samples < 0 || inChannels < 1 || inHeight < 1 || inWidth < 1 || outChannels < 1 || kernel < 1 || padding < 0) {
            throw new IllegalArgumentException("pooled convolution: negative size, no channel or kernel below 1 in " + this0(
                    samples, inChannels, inHeight, inWidth, outChannels, kernel, padding));
        }
        int h = inHeight + 2 * padding - kernel + 1;
        int w = inWidth + 2 * padding - kernel + 1;
        if (h < 2 || w < 2 || h % 2 != 0 || w % 2 != 0) {
            throw new IllegalArgumentException("pooled convolution: a 2x2 max-pool needs an even output size, got " + h + "x" + w
                    + " from " + this0(samples, inChannels, inHeight, inWidth, outChannels, kernel, padding));
        }
    }

    public int outHeight() {
        return inHeight + 2 * padding - kernel + 1;
    }

    public int outWidth() {
        return inWidth + 2 * padding - kernel + 1;
    }

    public int pooledHeight() {
        return outHeight() / 2;
    }

    public int pooledWidth() {
        return outWidth() / 2;
    }

    /** Pooled positions of one sample. */
    public int pooledPositions() {
        return pooledHeight() * pooledWidth();
    }

    /** Floats of the weight, [outChannels][inChannels][kernel][kernel]. */
    public int weightSize() {
        return Math.toIntExact((long) outChannels * inChannels * kernel * kernel);
    }

    /** Floats of one sample's input, [inHeight][inWidth][inChannels]. */
    public int inputPerSample() {
        return Math.toIntExact((long) inHeight * inWidth * inChannels);
    }

    /** Floats of one sample's pooled output (or its gradient, or the winners), [pooledHeight][pooledWidth][outChannels]. */
    public int pooledPerSample() {
        return Math.toIntExact((long) pooledPositions() * outChannels);
    }

    private static String this0(int samples, int inChannels, int inHeight, int inWidth, int outChannels, int kernel, int padding) {
        return samples + " samples, " + inChannels + "x" + inHeight + "x" + inWidth + " -> " + outChannels + " channels, kernel "
                + kernel + ", padding " + padding;
    }
}
