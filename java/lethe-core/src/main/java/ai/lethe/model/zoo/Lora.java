package ai.lethe.model.zoo;

import java.util.List;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * A low-rank branch beside a linear or convolutional layer: output = W·x + scale·B·(A·x), with B
 * initialised to zero so the branch starts silent. For a convolution A is a convolution to {@code rank}
 * channels with the layer's kernel, stride and padding, and B a 1×1 convolution back. {@link #merge} folds
 * the branch into W, after which the layer computes the same function without it.
 */
public final class Lora {

    final String layer;
    final boolean conv;
    final Tensor a;
    final Tensor b;
    final float scale;
    final long stride;
    final long padding;

    Lora(String layer, boolean conv, Tensor a, Tensor b, float scale, long stride, long padding) {
        this.layer = layer;
        this.conv = conv;
        this.a = a;
        this.b = b;
        this.scale = scale;
        this.stride = stride;
        this.padding = padding;
    }

    public String layer() {
        return layer;
    }

    /** The trainable tensors: A then B. */
    public Tensor[] tensors() {
        return new Tensor[] {a, b};
    }

    /** Name of the branch's A tensor in per-sample results ({@link PerSampleGradients}). */
    public String nameA() {
        return layer + ".lora_A";
    }

    /** Name of the branch's B tensor in per-sample results. */
    public String nameB() {
        return layer + ".lora_B";
    }

    /** The branch's output for the layer input x; its two products join {@code trace} when one is given. */
    Tensor residual(Tensor x, List<TracedOp> trace) {
        Tensor out;
        Tensor h;
        if (conv) {
            long kernel = a.size(2);
            h = torch.conv2d(x, a, new TensorOptional(), new long[] {stride, stride}, new long[] {padding, padding},
                    new long[] {1, 1}, 1);
            out = torch.conv2d(h, b, new TensorOptional(), new long[] {1, 1}, new long[] {0, 0}, new long[] {1, 1}, 1);
            if (trace != null) {
                trace.add(TracedOp.conv(nameA(), a, null, null, x, h, kernel, stride, padding));
                trace.add(TracedOp.conv(nameB(), b, null, null, h, out, 1, 1, 0));
            }
        } else {
            h = torch.linear(x, a);
            out = torch.linear(h, b);
            if (trace != null) {
                trace.add(TracedOp.linear(nameA(), a, null, null, x, h));
                trace.add(TracedOp.linear(nameB(), b, null, null, h, out));
            }
        }
        return scale == 1f ? out : out.mul(new org.bytedeco.pytorch.Scalar(scale));
    }

    /** W + scale·B·A, shaped like W. */
    Tensor mergedWeight(Tensor w) {
        long rank = a.size(0);
        Tensor bm = b.reshape(b.size(0), rank);                 // [out, r]
        Tensor am = a.reshape(rank, a.numel() / rank);           // [r, in·kh·kw]
        Tensor delta = torch.matmul(bm, am).reshape(w.sizes());  // [out, in(, kh, kw)]
        if (scale != 1f) {
            delta = delta.mul(new org.bytedeco.pytorch.Scalar(scale));
        }
        return w.add(delta);
    }
}
