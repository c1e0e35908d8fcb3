package ai.lethe.importance;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;

/**
 * The running sum of a pass, kept as a cascade so that fp32 rounding grows with log(batches), not with batches: the
 * accumulate kernels add into a block of {@link #BLOCK} batches; a full block is added to the partial sum of the same
 * size if there is one (like a binary counter), and so on up. A naive running sum over n batches has a rounding
 * error up to about n/2 ulps of the total (4.3e-5 relative measured on 60,000 samples against the same sum cut in 8
 * shards); the cascade's is about BLOCK/2 + log2(n/BLOCK) ulps, so a pass and the same pass split into shards (Spark)
 * or workers agree to about 1e-6. Passes of up to BLOCK batches add in plain order, as before. All buffers live in the
 * kernels' memory (on a GPU: on the device, one extra list addition per block).
 */
final class CascadeSum implements AutoCloseable {

    /** Batches added in plain order before a block joins the cascade. */
    static final int BLOCK = 8;

    private final Kernels kernels;
    private final long[] sizes;
    private final List<TensorList> levels = new ArrayList<>(); // level l: the sum of 2^l blocks, or null
    private final Deque<TensorList> spare = new ArrayDeque<>();
    private final List<TensorList> owned = new ArrayList<>();
    private TensorList block;
    private int inBlock;

    CascadeSum(Kernels kernels, long[] sizes) {
        this.kernels = kernels;
        this.sizes = sizes.clone();
        this.block = fresh();
    }

    /** Where the accumulate kernels add the current batch. */
    TensorList current() {
        return block;
    }

    /** One batch was added into {@link #current()}. */
    void added() {
        if (++inBlock < BLOCK) {
            return;
        }
        TensorList carry = block;
        int l = 0;
        while (l < levels.size() && levels.get(l) != null) {
            TensorList level = levels.get(l);
            kernels.scaleAdd(level, carry, 1f);
            spare.push(carry);
            carry = level;
            levels.set(l, null);
            l++;
        }
        if (l == levels.size()) {
            levels.add(carry);
        } else {
            levels.set(l, carry);
        }
        block = fresh();
        inBlock = 0;
    }

    /** The sum of everything added, smallest parts first (a list this object owns: valid until it is closed). */
    TensorList total() {
        TensorList sum = block;
        for (TensorList level : levels) {
            if (level != null) {
                kernels.scaleAdd(level, sum, 1f);
                sum = level;
            }
        }
        levels.clear();
        block = sum;
        inBlock = 0;
        return sum;
    }

    /** {@link #total()} handed over to the caller, who closes it; this object is done and frees only the rest. */
    TensorList detachTotal() {
        TensorList t = total();
        owned.remove(t);
        block = null;
        return t;
    }

    private TensorList fresh() {
        TensorList l = spare.poll();
        if (l != null) {
            kernels.fill(l, 0f);
            return l;
        }
        l = kernels.allocate(sizes);
        owned.add(l);
        return l;
    }

    @Override
    public void close() {
        for (TensorList l : owned) {
            l.close();
        }
        owned.clear();
    }
}
