package ai.lethe.model.zoo;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** The MLP of the Mnemonic-code paper: flatten, linear(C·H·W→hidden), sigmoid, linear(hidden→classes). */
final class MlpNet extends Net {

    MlpNet(ZooConfig c, long seed, boolean draw) {
        super("mlp", c, seed, draw);
        declareLinear("fc1", (long) c.inChannels() * c.imageSize() * c.imageSize(), c.hidden());
        declareLinear("fc2", c.hidden(), c.numClasses());
    }

    @Override
    public Tensor forward(Tensor x) {
        return linear("fc2", torch.sigmoid(linear("fc1", torch.flatten(x, 1, -1))));
    }
}
