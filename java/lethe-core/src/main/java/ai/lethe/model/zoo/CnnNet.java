package ai.lethe.model.zoo;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The small CNN of the shared fixtures: conv(C→16, 3×3, pad 1)-ReLU-maxpool2, conv(16→32)-ReLU-maxpool2 (both
 * computed as maxpool, then ReLU), linear(32·(H/4)²→64)-ReLU, linear(64→classes). Inputs in [0, 1] are normalised inside the model with
 * Fashion-MNIST's mean and standard deviation, as the fixture's TorchScript does.
 */
final class CnnNet extends Net {

    static final float MEAN = 0.2860f;
    static final float STD = 0.3530f;

    CnnNet(ZooConfig c, long seed, boolean draw) {
        super("cnn", c, seed, draw);
        if (c.imageSize() % 4 != 0) {
            throw new IllegalArgumentException("cnn needs an image size divisible by 4, got " + c.imageSize());
        }
        declareConv("conv1", c.inChannels(), 16, 3, 1, 1, true, false);
        declareConv("conv2", 16, 32, 3, 1, 1, true, false);
        long side = c.imageSize() / 4;
        declareLinear("fc1", 32 * side * side, 64);
        declareLinear("fc2", 64, c.numClasses());
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor h = normalized(x);
        // Channels-last from the first convolution's output on (a one-channel input is both layouts, so its output
        // would stay NCHW): libtorch's CPU max-pool runs several times faster on it, and its convolutions then round
        // a batch exactly as they round one sample, so max-pool winners do not depend on the batch (the per-sample
        // fast path must agree with the one-sample loop).
        // Max-pool before ReLU: the same function and the same gradients, bit for bit (ReLU is monotone, and where a
        // window's maximum is not positive both orders pass no gradient), with ReLU's passes over a quarter of the data.
        h = torch.relu(pool(conv("conv1", h).contiguous(torch.MemoryFormat.ChannelsLast)));
        h = torch.relu(pool(conv("conv2", h)));
        return head(torch.flatten(h, 1, -1));
    }

    /** The input as the first convolution sees it. */
    Tensor normalized(Tensor x) {
        return x.sub(new Scalar(MEAN)).div(new Scalar(STD));
    }

    /** The logits from the flattened features [N, 32·(H/4)²] (NCHW order): fc1, ReLU, fc2. */
    Tensor head(Tensor features) {
        return linear("fc2", torch.relu(linear("fc1", features)));
    }

    /**
     * Whether {@link PooledCnnGradients} computes this network's per-sample sums: without LoRA branches (their
     * residuals join the convolutions' outputs, which that path does not trace).
     */
    boolean pooledPerSample() {
        return loraBranches().isEmpty();
    }

    private static Tensor pool(Tensor x) {
        return torch.max_pool2d(x, new long[] {2, 2}, new long[] {2, 2}, new long[] {0, 0}, new long[] {1, 1}, false);
    }
}
