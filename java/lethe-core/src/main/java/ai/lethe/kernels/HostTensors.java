package ai.lethe.kernels;

import java.util.Arrays;
import java.util.Objects;

/** A tensor list backed by Java float arrays: the memory of the {@code scalar} and {@code vector} back ends. */
public final class HostTensors implements TensorList {

    private final float[][] arrays;

    private HostTensors(float[][] arrays) {
        this.arrays = arrays;
    }

    /** A view of the given arrays (no copy): kernels read and write them in place. */
    public static HostTensors wrap(float[]... arrays) {
        Objects.requireNonNull(arrays, "arrays");
        for (int i = 0; i < arrays.length; i++) {
            if (arrays[i] == null) {
                throw new NullPointerException("tensor " + i + " is null");
            }
        }
        return new HostTensors(arrays);
    }

    /** Zero-filled tensors of the given sizes. */
    public static HostTensors zeros(long... sizes) {
        float[][] a = new float[sizes.length][];
        for (int i = 0; i < sizes.length; i++) {
            a[i] = new float[checkedSize(sizes[i])];
        }
        return new HostTensors(a);
    }

    /** Deep copy of the given arrays. */
    public static HostTensors copyOf(float[][] arrays) {
        float[][] a = new float[arrays.length][];
        for (int i = 0; i < arrays.length; i++) {
            a[i] = arrays[i].clone();
        }
        return new HostTensors(a);
    }

    static int checkedSize(long size) {
        if (size < 0 || size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor size " + size + " is outside what a Java array can hold");
        }
        return (int) size;
    }

    /** The backing array of tensor {@code i} (shared, not a copy). */
    public float[] array(int i) {
        return arrays[i];
    }

    /** The backing arrays (shared, not copies). */
    public float[][] arrays() {
        return arrays;
    }

    @Override
    public int count() {
        return arrays.length;
    }

    @Override
    public long size(int i) {
        return arrays[i].length;
    }

    @Override
    public void close() {
        // Java arrays are garbage-collected.
    }

    @Override
    public String toString() {
        return "HostTensors" + Arrays.toString(sizes());
    }
}
