package ai.lethe.model.zoo;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * A network defined in Java with libtorch's functional operations: it owns its parameters and buffers,
 * named exactly as PyTorch's named_parameters() and state_dict() name them, so a state_dict saved in Python
 * loads unchanged. Subclasses declare their layers in the constructor (in PyTorch's registration order) and
 * wire them in {@link #forward}. Linear and convolutional layers accept LoRA branches, and their outputs can
 * be captured (base feature and branch residual) for Residual Feature Alignment.
 */
public abstract class Net {

    /** Geometry of a declared layer. */
    record Layer(String name, boolean conv, long in, long out, long kernel, long stride, long padding, boolean bias) {
    }

    private final String arch;
    private final ZooConfig config;
    private final Map<String, Tensor> params = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Layer> layers = new LinkedHashMap<>();
    private final Map<String, Lora> lora = new LinkedHashMap<>();
    private Map<String, Tensor[]> capture;
    private List<TracedOp> trace;
    private boolean training;
    protected final SplittableRandom init;
    /** False: parameters start as zeros, for a caller that overwrites every one next (see {@link Zoo#createToFill}). */
    private final boolean draw;
    /** Where tensors made later (LoRA branches) go: null = the host. */
    private org.bytedeco.pytorch.Device device;

    protected Net(String arch, ZooConfig config, long seed, boolean draw) {
        this.arch = arch;
        this.config = config;
        this.init = new SplittableRandom(seed);
        this.draw = draw;
    }

    public String arch() {
        return arch;
    }

    public ZooConfig config() {
        return config;
    }

    /** Parameters in named_parameters() order (shared tensors). */
    public Map<String, Tensor> parameters() {
        return Collections.unmodifiableMap(params);
    }

    /** Buffers (BatchNorm running statistics) in state_dict order. */
    public Map<String, Tensor> buffers() {
        return Collections.unmodifiableMap(buffers);
    }

    public boolean training() {
        return training;
    }

    /** Train mode: BatchNorm normalises with batch statistics and updates its running statistics. */
    public void train(boolean on) {
        training = on;
    }

    /** The logits for a batch [N, C, H, W]. */
    public abstract Tensor forward(Tensor x);

    static final double BATCH_NORM_EPS = 1e-5;

    // ---- declaring layers -----------------------------------------------------------------------

    protected static Tensor tensor(float[] values, long... shape) {
        Tensor t = torch.empty(shape);
        t.data_ptr_float().put(values);
        return t;
    }

    /** A parameter holding {@code values}, or zeros where they are null. */
    private void param(String name, float[] values, long... shape) {
        Tensor t = values == null ? torch.zeros(shape) : tensor(values, shape);
        t.requires_grad_(true);
        params.put(name, t);
    }

    /** A convolution with PyTorch's default initialisation (or torchvision's ResNet one when {@code kaiming}). */
    protected void declareConv(String name, long in, long out, long kernel, long stride, long padding, boolean bias,
                               boolean kaiming) {
        int n = Math.toIntExact(out * in * kernel * kernel);
        long fanIn = in * kernel * kernel;
        param(name + ".weight", !draw ? null : kaiming ? Init.kaimingNormalFanOut(init, n, out * kernel * kernel) : Init.uniformFanIn(init, n, fanIn),
                out, in, kernel, kernel);
        if (bias) {
            param(name + ".bias", draw ? Init.uniformFanIn(init, (int) out, fanIn) : null, out);
        }
        layers.put(name, new Layer(name, true, in, out, kernel, stride, padding, bias));
    }

    protected void declareLinear(String name, long in, long out) {
        param(name + ".weight", draw ? Init.uniformFanIn(init, Math.toIntExact(in * out), in) : null, out, in);
        param(name + ".bias", draw ? Init.uniformFanIn(init, (int) out, in) : null, out);
        layers.put(name, new Layer(name, false, in, out, 1, 1, 0, true));
    }

    protected void declareBatchNorm(String name, long channels) {
        param(name + ".weight", Init.constant((int) channels, 1f), channels);
        param(name + ".bias", Init.constant((int) channels, 0f), channels);
        buffers.put(name + ".running_mean", tensor(Init.constant((int) channels, 0f), channels));
        buffers.put(name + ".running_var", tensor(Init.constant((int) channels, 1f), channels));
        buffers.put(name + ".num_batches_tracked", torch.zeros(new long[0], new TensorOptions(torch.ScalarType.Long)));
    }

    // ---- using layers ---------------------------------------------------------------------------

    protected Tensor conv(String name, Tensor x) {
        Layer l = layers.get(name);
        Tensor bias = l.bias() ? params.get(name + ".bias") : null;
        Tensor weight = params.get(name + ".weight");
        Tensor out = torch.conv2d(x, weight, bias == null ? new TensorOptional() : new TensorOptional(bias),
                new long[] {l.stride(), l.stride()}, new long[] {l.padding(), l.padding()}, new long[] {1, 1}, 1);
        traced(TracedOp.conv(name + ".weight", weight, bias == null ? null : name + ".bias", bias, x, out, l.kernel(),
                l.stride(), l.padding()));
        return adapt(name, x, out);
    }

    protected Tensor linear(String name, Tensor x) {
        Tensor weight = params.get(name + ".weight");
        Tensor bias = params.get(name + ".bias");
        Tensor out = torch.linear(x, weight, new TensorOptional(bias));
        traced(TracedOp.linear(name + ".weight", weight, name + ".bias", bias, x, out));
        return adapt(name, x, out);
    }

    protected Tensor batchNorm(String name, Tensor x) {
        Tensor y = torch.batch_norm(x, new TensorOptional(params.get(name + ".weight")), new TensorOptional(params.get(name + ".bias")),
                new TensorOptional(buffers.get(name + ".running_mean")), new TensorOptional(buffers.get(name + ".running_var")),
                training, 0.1, BATCH_NORM_EPS, true);
        if (!training) { // in train mode a sample's output depends on the whole batch: no per-sample formula
            traced(TracedOp.batchNorm(name, params.get(name + ".weight"), params.get(name + ".bias"), x, y,
                    buffers.get(name + ".running_mean"), buffers.get(name + ".running_var"), BATCH_NORM_EPS));
        }
        if (training) {
            try (NoGradGuard g = new NoGradGuard()) {
                buffers.get(name + ".num_batches_tracked").add_(new Scalar(1L));
            }
        }
        return y;
    }

    private Tensor adapt(String name, Tensor x, Tensor base) {
        Lora branch = lora.get(name);
        if (branch == null) {
            if (capture != null && capture.containsKey(name)) {
                capture.put(name, new Tensor[] {base, null});
            }
            return base;
        }
        Tensor residual = branch.residual(x, trace);
        if (capture != null) {
            capture.put(name, new Tensor[] {base, residual});
        }
        return base.add(residual);
    }

    private void traced(TracedOp op) {
        if (trace != null) {
            trace.add(op);
        }
    }

    /**
     * Records, during the following forward passes, every operation with parameters (its input and output
     * tensors), for per-sample gradients ({@link PerSampleGradients}); {@code false} stops and forgets.
     */
    void trace(boolean on) {
        trace = on ? new ArrayList<>() : null;
    }

    /** The operations the forward passes since {@link #trace(boolean)} recorded, in forward order. */
    List<TracedOp> traced() {
        return trace == null ? List.of() : Collections.unmodifiableList(trace);
    }

    // ---- LoRA and feature capture ---------------------------------------------------------------

    // ---- placement ------------------------------------------------------------------------------

    /**
     * Moves every parameter, buffer and LoRA branch to {@code target}, keeping the tensor objects (set_data), and
     * makes later branches there too.
     */
    public void to(org.bytedeco.pytorch.Device target) {
        try (NoGradGuard g = new NoGradGuard()) {
            for (Tensor t : params.values()) {
                t.set_data(t.to(target, t.scalar_type()));
            }
            for (Tensor t : buffers.values()) {
                t.set_data(t.to(target, t.scalar_type()));
            }
            for (Lora branch : lora.values()) {
                for (Tensor t : branch.tensors()) {
                    t.set_data(t.to(target, t.scalar_type()));
                }
            }
        }
        device = target;
    }

    /** {@code t} on the network's device (itself when both are on the host): for inputs, labels and constants. */
    public Tensor placed(Tensor t) {
        return device == null ? t : t.to(device, t.scalar_type());
    }

    /** Linear and convolutional layers, in forward order: where LoRA branches can go. */
    public List<String> adaptableLayers() {
        return new ArrayList<>(layers.keySet());
    }

    /** Adds a LoRA branch of the given rank beside a layer: A random (PyTorch's LoRA init), B zero. */
    public Lora addLora(String layer, int rank, float scale, SplittableRandom r) {
        Layer l = layers.get(layer);
        if (l == null) {
            throw new IllegalArgumentException("no linear or convolutional layer named " + layer + " (have " + layers.keySet() + ")");
        }
        if (lora.containsKey(layer)) {
            throw new IllegalArgumentException("layer " + layer + " already has a LoRA branch");
        }
        long fanIn = l.in() * l.kernel() * l.kernel();
        Tensor a = l.conv()
                ? tensor(Init.uniformFanIn(r, Math.toIntExact(rank * fanIn), fanIn), rank, l.in(), l.kernel(), l.kernel())
                : tensor(Init.uniformFanIn(r, Math.toIntExact(rank * l.in()), l.in()), rank, l.in());
        Tensor b = l.conv() ? tensor(new float[Math.toIntExact(l.out() * rank)], l.out(), rank, 1, 1)
                : tensor(new float[Math.toIntExact(l.out() * rank)], l.out(), rank);
        a = placed(a);
        b = placed(b);
        a.requires_grad_(true);
        b.requires_grad_(true);
        Lora branch = new Lora(layer, l.conv(), a, b, scale, l.stride(), l.padding());
        lora.put(layer, branch);
        return branch;
    }

    public List<Lora> loraBranches() {
        return new ArrayList<>(lora.values());
    }

    /** Folds every LoRA branch into its layer's weight (W ← W + scale·B·A) and removes the branches. */
    public void mergeLora() {
        try (NoGradGuard g = new NoGradGuard()) {
            for (Lora branch : lora.values()) {
                Tensor w = params.get(branch.layer() + ".weight");
                w.copy_(branch.mergedWeight(w));
            }
        }
        lora.clear();
    }

    /** Removes every LoRA branch without merging it. */
    public void dropLora() {
        lora.clear();
    }

    /**
     * Records, during the following forward passes, each named layer's base output and LoRA residual
     * (null without a branch). Pass null to stop.
     */
    public void capture(List<String> layerNames) {
        if (layerNames == null) {
            capture = null;
            return;
        }
        capture = new LinkedHashMap<>();
        for (String n : layerNames) {
            capture.put(n, null);
        }
    }

    /** What the last forward pass recorded: layer → {base output, residual}. */
    public Map<String, Tensor[]> captured() {
        return capture == null ? Map.of() : Collections.unmodifiableMap(capture);
    }
}
