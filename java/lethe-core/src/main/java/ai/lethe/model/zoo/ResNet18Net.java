package ai.lethe.model.zoo;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * ResNet-18 with torchvision's layout and parameter names (BasicBlock ×2 per stage, widths w, 2w, 4w, 8w,
 * 1×1 downsample convolutions, adaptive average pooling, fc). Two stems:
 * <ul>
 *   <li>{@code resnet18}: torchvision's — 7×7 stride-2 convolution and 3×3 stride-2 max-pool;</li>
 *   <li>{@code resnet18-cifar}: 3×3 stride-1 convolution and no max-pool, for 32×32 and 28×28 inputs.</li>
 * </ul>
 * Any number of input channels; torchvision's initialisation (Kaiming-normal convolutions, BatchNorm 1/0).
 */
final class ResNet18Net extends Net {

    private final boolean cifar;

    ResNet18Net(boolean cifar, ZooConfig c, long seed, boolean draw) {
        super(cifar ? "resnet18-cifar" : "resnet18", c, seed, draw);
        this.cifar = cifar;
        int w = c.width();
        if (cifar) {
            declareConv("conv1", c.inChannels(), w, 3, 1, 1, false, true);
        } else {
            declareConv("conv1", c.inChannels(), w, 7, 2, 3, false, true);
        }
        declareBatchNorm("bn1", w);
        int in = w;
        int[] widths = {w, 2 * w, 4 * w, 8 * w};
        for (int stage = 0; stage < 4; stage++) {
            int out = widths[stage];
            for (int block = 0; block < 2; block++) {
                String p = "layer" + (stage + 1) + "." + block;
                int stride = block == 0 && stage > 0 ? 2 : 1;
                int cin = block == 0 ? in : out;
                declareConv(p + ".conv1", cin, out, 3, stride, 1, false, true);
                declareBatchNorm(p + ".bn1", out);
                declareConv(p + ".conv2", out, out, 3, 1, 1, false, true);
                declareBatchNorm(p + ".bn2", out);
                if (stride != 1 || cin != out) {
                    declareConv(p + ".downsample.0", cin, out, 1, stride, 0, false, true);
                    declareBatchNorm(p + ".downsample.1", out);
                }
            }
            in = out;
        }
        declareLinear("fc", 8L * w, c.numClasses());
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor h = torch.relu(batchNorm("bn1", conv("conv1", x)));
        if (!cifar) {
            h = torch.max_pool2d(h, new long[] {3, 3}, new long[] {2, 2}, new long[] {1, 1}, new long[] {1, 1}, false);
        }
        for (int stage = 1; stage <= 4; stage++) {
            for (int block = 0; block < 2; block++) {
                h = block("layer" + stage + "." + block, h);
            }
        }
        h = torch.flatten(torch.adaptive_avg_pool2d(h, 1, 1), 1, -1);
        return linear("fc", h);
    }

    private Tensor block(String p, Tensor x) {
        Tensor out = torch.relu(batchNorm(p + ".bn1", conv(p + ".conv1", x)));
        out = batchNorm(p + ".bn2", conv(p + ".conv2", out));
        Tensor identity = parameters().containsKey(p + ".downsample.0.weight")
                ? batchNorm(p + ".downsample.1", conv(p + ".downsample.0", x)) : x;
        return torch.relu(out.add(identity));
    }
}
