package ai.lethe.kernels;

import java.util.Arrays;

/** Argument checks shared by the back ends, so every kernel fails the same clear way. */
public final class Shapes {

    private Shapes() {
    }

    /** Throws unless every list has the tensor sizes of {@code first}. */
    public static void requireSameShape(String kernel, TensorList first, TensorList... others) {
        long[] expected = first.sizes();
        for (TensorList other : others) {
            if (other == first) {
                continue;
            }
            long[] got = other.sizes();
            if (!Arrays.equals(expected, got)) {
                throw new IllegalArgumentException(kernel + ": tensor lists differ in shape: "
                        + describe(expected) + " vs " + describe(got));
            }
        }
    }

    /** Throws unless the host arrays have exactly the sizes of the list. */
    public static void requireSameShape(String what, TensorList list, float[][] host) {
        if (host.length != list.count()) {
            throw new IllegalArgumentException(what + ": " + host.length + " arrays for " + list.count() + " tensors");
        }
        for (int i = 0; i < host.length; i++) {
            if (host[i].length != list.size(i)) {
                throw new IllegalArgumentException(what + ": tensor " + i + " has " + list.size(i)
                        + " elements but its array has " + host[i].length);
            }
        }
    }

    /** Throws unless the lists fit {@link Kernels#accumulatePerSampleProducts}'s dimensions. */
    public static void requirePerSampleProducts(TensorList acc, TensorList g, TensorList u, int samples, int rows,
                                                int cols, int positions) {
        if (samples < 0 || rows < 0 || cols < 0 || positions < 0) {
            throw new IllegalArgumentException("accumulatePerSampleProducts: negative dimension (samples " + samples
                    + ", rows " + rows + ", cols " + cols + ", positions " + positions + ")");
        }
        requireSingle("accumulatePerSampleProducts: acc", acc, (long) rows * cols);
        requireSingle("accumulatePerSampleProducts: g", g, (long) samples * rows * positions);
        requireSingle("accumulatePerSampleProducts: u", u, (long) samples * cols * positions);
    }

    /** Throws unless the lists fit {@link Kernels#accumulateConvPerSampleProducts}'s geometry. */
    public static void requireConvProducts(TensorList acc, TensorList g, TensorList a, ConvGeometry conv) {
        requireSingle("accumulateConvPerSampleProducts: acc", acc, conv.weightSize());
        requireSingle("accumulateConvPerSampleProducts: g", g, conv.outputSize());
        requireSingle("accumulateConvPerSampleProducts: a", a, conv.inputSize());
    }

    private static void requireSingle(String what, TensorList list, long size) {
        if (list.count() != 1 || list.size(0) != size) {
            throw new IllegalArgumentException(what + " must be one tensor of " + size + " elements, got " + describe(list.sizes()));
        }
    }

    private static String describe(long[] sizes) {
        if (sizes.length <= 8) {
            return Arrays.toString(sizes);
        }
        long total = Arrays.stream(sizes).sum();
        return sizes.length + " tensors, " + total + " elements";
    }
}
