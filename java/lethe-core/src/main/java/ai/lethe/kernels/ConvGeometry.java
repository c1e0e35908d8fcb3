package ai.lethe.kernels;

/**
 * The shapes of one block of a square-kernel 2-D convolution for
 * {@link Kernels#accumulateConvPerSampleProducts}: {@code samples} inputs of {@code inChannels × inHeight × inWidth},
 * outputs of {@code outChannels × outHeight × outWidth}, a {@code kernel × kernel} window moved by {@code stride}
 * over the input padded by {@code padding} zeros on every side. Operands are channels-last (NHWC), as the zoo's
 * convolutions keep their activations.
 */
public record ConvGeometry(int samples, int inChannels, int inHeight, int inWidth, int outChannels, int outHeight,
                           int outWidth, int kernel, int stride, int padding) {

    /** Throws unless the sizes are non-negative and the output size is the one the window, stride and padding give. */
    public ConvGeometry {
        if (samples < 0 || inChannels < 0 || inHeight < 0 || inWidth < 0 || outChannels < 0 || kernel < 1 || stride < 1
                || padding < 0) {
            throw new IllegalArgumentException("convolution geometry: negative size or kernel/stride below 1 in " + describe(
                    samples, inChannels, inHeight, inWidth, outChannels, outHeight, outWidth, kernel, stride, padding));
        }
        if (outHeight != outSize(inHeight, kernel, stride, padding) || outWidth != outSize(inWidth, kernel, stride, padding)) {
            throw new IllegalArgumentException("convolution geometry: output " + outHeight + "x" + outWidth + " does not follow from "
                    + describe(samples, inChannels, inHeight, inWidth, outChannels, outHeight, outWidth, kernel, stride, padding));
        }
    }

    /** The output size of one spatial dimension (0 when the padded input is smaller than the window). */
    public static int outSize(int in, int kernel, int stride, int padding) {
        int span = in + 2 * padding - kernel;
        return span < 0 ? 0 : span / stride + 1;
    }

    /** Floats of the accumulator: the weight's [outChannels][inChannels][kernel][kernel]. */
    public long weightSize() {
        return (long) outChannels * inChannels * kernel * kernel;
    }

    /** Floats of the input block, [samples][inHeight][inWidth][inChannels]. */
    public long inputSize() {
        return (long) samples * inHeight * inWidth * inChannels;
    }

    /** Floats of the output gradient block, [samples][outHeight][outWidth][outChannels]. */
    public long outputSize() {
        return (long) samples * outHeight * outWidth * outChannels;
    }

    /** Multiply-adds that form the block's per-sample gradients. */
    public long multiplyAdds() {
        return (long) samples * outHeight * outWidth * outChannels * inChannels * kernel * kernel;
    }

    /** The first output row (or column) whose window row {@code tap} falls inside an input of {@code in}. */
    public int firstOutput(int tap) {
        return Math.max(0, -Math.floorDiv(tap - padding, stride));
    }

    /** One past the last output row (or column) of {@code out} whose window row {@code tap} falls inside {@code in}. */
    public int endOutput(int tap, int in, int out) {
        return Math.max(0, Math.min(out, Math.floorDiv(in - 1 + padding - tap, stride) + 1));
    }

    private static String describe(int samples, int inChannels, int inHeight, int inWidth, int outChannels, int outHeight,
                                   int outWidth, int kernel, int stride, int padding) {
        return samples + " samples, " + inChannels + "x" + inHeight + "x" + inWidth + " -> " + outChannels + "x" + outHeight
                + "x" + outWidth + ", kernel " + kernel + ", stride " + stride + ", padding " + padding;
    }
}
