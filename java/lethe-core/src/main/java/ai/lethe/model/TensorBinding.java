package ai.lethe.model;

import ai.lethe.kernels.TensorList;

/**
 * A model's parameters and gradients as tensor lists of one kernel back end: the one boundary between the model
 * (libtorch) and the kernels. Two kinds, chosen by {@link Model#bind}: a host copy ({@link HostCopyBinding}: the
 * model's memory is copied into the back end's lists and back, today's CPU path and any model the back end cannot
 * see directly) and a view ({@link CudaTensorBinding}: the lists are libtorch's own CUDA tensors, the kernels run
 * on libtorch's current stream, nothing is copied). Callers never ask which one they hold: they call the same
 * methods in the same order and the host copy does its copies there.
 *
 * <p>Used by one thread, like the model. Closing frees what the binding allocated, never the model's tensors.
 */
public interface TensorBinding extends AutoCloseable {

    /** True when the lists are the model's own memory (no copies are made). */
    boolean isView();

    /**
     * The model's current parameter values. Kernels may change them in place; {@link #pushParameters} then makes
     * the change the model's.
     */
    TensorList parameters();

    /** The gradients of the model's last {@code backward} (0 where none flowed); call after each backward. */
    TensorList gradients();

    /** Makes what kernels wrote into {@link #parameters()} the model's parameters. */
    void pushParameters();

    @Override
    void close();
}
