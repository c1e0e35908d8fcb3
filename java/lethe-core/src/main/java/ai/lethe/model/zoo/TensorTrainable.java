package ai.lethe.model.zoo;

import java.util.Arrays;
import java.util.List;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

import ai.lethe.model.Trainable;

/** Extra trainable tensors (LoRA branches) for {@link ai.lethe.train.Sgd}: contiguous fp32 tensors with gradients. */
public final class TensorTrainable implements Trainable {

    private final List<Tensor> tensors;

    public TensorTrainable(List<Tensor> tensors) {
        this.tensors = List.copyOf(tensors);
    }

    /** Every A and B of the net's LoRA branches. */
    public static TensorTrainable loraOf(Net net) {
        return new TensorTrainable(net.loraBranches().stream().flatMap(b -> Arrays.stream(b.tensors())).toList());
    }

    @Override
    public long[] sizes() {
        return tensors.stream().mapToLong(Tensor::numel).toArray();
    }

    @Override
    public void read(float[][] dst) {
        for (int i = 0; i < dst.length; i++) {
            Tensor t = tensors.get(i);
            (t.is_cuda() ? t.cpu() : t).data_ptr_float().get(dst[i]);
        }
    }

    @Override
    public void write(float[][] src) {
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (int i = 0; i < src.length; i++) {
                Tensor t = tensors.get(i);
                if (t.is_cuda()) {
                    Tensor host = org.bytedeco.pytorch.global.torch.empty(t.sizes().vec().get());
                    host.data_ptr_float().put(src[i]);
                    t.copy_(host);
                } else {
                    t.data_ptr_float().put(src[i]);
                }
            }
        }
    }

    @Override
    public void gradients(float[][] dst) {
        try (PointerScope s = new PointerScope()) {
            for (int i = 0; i < dst.length; i++) {
                Tensor g = tensors.get(i).grad();
                if (g.defined()) {
                    Tensor c = g.contiguous();
                    (c.is_cuda() ? c.cpu() : c).data_ptr_float().get(dst[i]);
                } else {
                    Arrays.fill(dst[i], 0f);
                }
            }
        }
    }

    /** Clears the gradients before the next backward pass. */
    public void zeroGradients() {
        for (Tensor t : tensors) {
            Tensor g = t.grad();
            if (g.defined()) {
                g.zero_();
            }
        }
    }
}
