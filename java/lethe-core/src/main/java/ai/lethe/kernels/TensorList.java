package ai.lethe.kernels;

/**
 * An ordered list of fp32 tensors living in one back end's memory: Java arrays for the CPU back ends,
 * device memory for CUDA. Kernels take whole lists, so a model's parameters are processed by one call
 * (one launch on CUDA) instead of one call per tensor.
 */
public interface TensorList extends AutoCloseable {

    /** Number of tensors. */
    int count();

    /** Number of elements of tensor {@code i}. */
    long size(int i);

    /** Total number of elements over all tensors. */
    default long totalSize() {
        long n = 0;
        for (int i = 0; i < count(); i++) {
            n += size(i);
        }
        return n;
    }

    /** The sizes of every tensor, in order. */
    default long[] sizes() {
        long[] s = new long[count()];
        for (int i = 0; i < s.length; i++) {
            s[i] = size(i);
        }
        return s;
    }

    /** Frees memory this list owns; lists that borrow memory (views of arrays or of libtorch tensors) free nothing. */
    @Override
    void close();
}
