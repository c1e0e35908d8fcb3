package ai.lethe.model;

import java.util.Arrays;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import ai.lethe.kernels.TensorList;
import ai.lethe.kernels.cuda.CudaKernels;
import ai.lethe.kernels.cuda.DeviceTensors;

/**
 * The view binding: the kernels' lists are libtorch's own CUDA parameter and gradient tensors (borrowed device
 * pointers, nothing copied), and the kernels run on libtorch's current CUDA stream, so an accumulate is ordered
 * after the backward that produced its gradients without a synchronisation. While bound, the model zeroes its
 * gradients with one fill kernel over the whole list instead of one launch per tensor. The lists are rebuilt
 * only if libtorch moved a tensor (it keeps gradients in place when they are zeroed, so in practice never).
 */
final class CudaTensorBinding implements TensorBinding {

    private final LibtorchModel model;
    private final CudaKernels cuda;
    private final Tensor[] tensors;
    private final Borrowed parameters = new Borrowed();
    private final Borrowed gradients = new Borrowed();
    private boolean closed;

    CudaTensorBinding(LibtorchModel model, CudaKernels cuda) {
        this.model = model;
        this.cuda = cuda;
        this.tensors = model.tensors();
        // What was queued on the back end's own stream (zeroing a new accumulator, say) must be done before work on
        // libtorch's stream reads it: the own stream is non-blocking, so nothing else orders the two.
        cuda.synchronize();
        cuda.useExternalStream(CudaStreams.current(cuda.deviceIndex()));
        model.gradientZeroer(this::zeroGradients);
    }

    @Override
    public boolean isView() {
        return true;
    }

    @Override
    public TensorList parameters() {
        long[] pointers = new long[tensors.length];
        for (int i = 0; i < tensors.length; i++) {
            pointers[i] = pointerOf(tensors[i], "parameter", i);
        }
        return parameters.at(pointers);
    }

    @Override
    public TensorList gradients() {
        long[] pointers = new long[tensors.length];
        try (PointerScope scope = new PointerScope()) {
            for (int i = 0; i < tensors.length; i++) {
                Tensor g = tensors[i].grad();
                if (!g.defined()) { // a parameter outside the loss: give it a zero gradient that stays in place
                    tensors[i].mutable_grad().put(torch.zeros_like(tensors[i]));
                    g = tensors[i].grad();
                }
                pointers[i] = pointerOf(g, "gradient", i);
            }
        }
        return gradients.at(pointers);
    }

    /** One fill kernel over the gradients when they are where the list says; else libtorch's zero_ per tensor. */
    private boolean zeroGradients() {
        if (gradients.list == null) {
            return false;
        }
        try (PointerScope scope = new PointerScope()) {
            for (int i = 0; i < tensors.length; i++) {
                Tensor g = tensors[i].grad();
                if (!g.defined() || g.data_ptr().address() != gradients.pointers[i]) {
                    return false;
                }
            }
        }
        cuda.fill(gradients.list, 0f);
        return true;
    }

    private long pointerOf(Tensor t, String what, int i) {
        if (!t.is_cuda() || t.device().index() != cuda.deviceIndex() || !t.is_contiguous()) {
            throw new IllegalStateException(what + " " + model.parameters().get(i).name() + " is not a contiguous tensor on cuda:"
                    + cuda.deviceIndex() + " (" + t.device().str().getString() + ")");
        }
        return t.data_ptr().address();
    }

    @Override
    public void pushParameters() {
        model.parametersChanged(); // the kernels wrote the model's own memory
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        model.gradientZeroer(null);
        // Later work on the back end's own stream must see what was queued on libtorch's.
        cuda.synchronize();
        cuda.useStream(0);
        parameters.close();
        gradients.close();
    }

    /** A borrowed device list over libtorch's tensors, rebuilt only when their addresses change. */
    private final class Borrowed {
        DeviceTensors list;
        long[] pointers;

        DeviceTensors at(long[] now) {
            if (list == null || !Arrays.equals(now, pointers)) {
                close();
                list = cuda.wrapBorrowed(now, model.parameterSizes());
                pointers = now;
            }
            return list;
        }

        void close() {
            if (list != null) {
                list.close();
                list = null;
            }
        }
    }
}
