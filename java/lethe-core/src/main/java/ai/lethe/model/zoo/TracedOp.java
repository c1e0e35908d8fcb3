package ai.lethe.model.zoo;

import org.bytedeco.pytorch.Tensor;

/**
 * One operation with parameters as a traced forward pass saw it: its input and output tensors and what
 * {@link PerSampleGradients} needs to turn the output's gradient into per-sample parameter gradients.
 *
 * @param kind        linear, convolution or BatchNorm (eval mode)
 * @param weightName  result name of the weight (γ for BatchNorm); LoRA tensors use {@link Lora#nameA()}/{@link Lora#nameB()}
 * @param biasName    result name of the bias (β for BatchNorm), null when there is none
 * @param input       the operation's input (x for BatchNorm)
 * @param output      the operation's output (before a LoRA residual is added)
 * @param runningMean BatchNorm only
 * @param runningVar  BatchNorm only
 */
record TracedOp(Kind kind, String weightName, Tensor weight, String biasName, Tensor bias, Tensor input, Tensor output,
                long kernel, long stride, long padding, Tensor runningMean, Tensor runningVar, double eps) {

    enum Kind { LINEAR, CONV, BATCH_NORM }

    static TracedOp linear(String weightName, Tensor weight, String biasName, Tensor bias, Tensor input, Tensor output) {
        return new TracedOp(Kind.LINEAR, weightName, weight, biasName, bias, input, output, 1, 1, 0, null, null, 0);
    }

    static TracedOp conv(String weightName, Tensor weight, String biasName, Tensor bias, Tensor input, Tensor output,
                         long kernel, long stride, long padding) {
        return new TracedOp(Kind.CONV, weightName, weight, biasName, bias, input, output, kernel, stride, padding, null, null, 0);
    }

    static TracedOp batchNorm(String layer, Tensor gamma, Tensor beta, Tensor input, Tensor output, Tensor runningMean,
                              Tensor runningVar, double eps) {
        return new TracedOp(Kind.BATCH_NORM, layer + ".weight", gamma, layer + ".bias", beta, input, output, 1, 1, 0,
                runningMean, runningVar, eps);
    }
}
