package ai.lethe.model.zoo;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import ai.lethe.kernels.ConvGeometry;
import ai.lethe.kernels.HostTensors;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.PooledConvKernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.model.Loss;

/**
 * Σ over a batch's samples of each sample's squared (or absolute) parameter gradient, from ONE batched forward
 * and backward pass (BackPACK, arXiv 1912.10985; ALGORITHMS.md section 1). The loss is the sum of the samples'
 * own losses, so the gradient G at an operation's output holds every sample's gradient in its own row, and
 * each layer's per-sample parameter gradient follows from its input A and G:
 * <ul>
 *   <li>linear, one row per sample: Σ_n (g_n a_nᵀ)² = (G∘G)ᵀ(A∘A), one GEMM (absolute: |G|ᵀ|A|); bias Σ_n g_n²;</li>
 *   <li>convolution: W_n = G_n · unfold(A_n)ᵀ (C_out × C_in·k²), formed for a block of samples, squared and
 *       summed: by the host kernels' direct kernel (reads A and G channels-last, unfolds nothing), by a device
 *       back end's fused kernel on the unfolded input, or by libtorch's grouped-convolution weight gradient;
 *       bias Σ_n (Σ_p G_n)². The zoo cnn on the host takes {@link PooledCnnGradients} instead: its convolutions
 *       feed 2×2 max-pools, so G is non-zero at one position per window, and the products are formed from those;</li>
 *   <li>BatchNorm in eval mode: γ_n = Σ_p G_n∘x̂_n, β_n = Σ_p G_n (x̂ from the running statistics);</li>
 *   <li>LoRA branches: their A and B products are a convolution (or linear layer) and a 1×1 one, traced as such.</li>
 * </ul>
 * The absolute variant (Σ_n |g_n|, the label-free accumulation) has no such shortcut where a linear layer sees
 * several positions per sample: there the per-sample gradients are formed in blocks.
 *
 * <p>Memory: beyond the batch's activations and output gradients, a block of B samples holds its per-sample
 * gradients (B·rows·cols floats) and, on the unfold routes, its unfolded inputs (B·cols·positions floats); B is
 * chosen so that these (and, for convolutions, the block's input and output gradient again; on the direct route
 * only the host copies of input and output gradient) stay within {@link #BLOCK_FLOATS} floats (64 MiB), or is 1
 * when a single sample needs more.
 */
public final class PerSampleGradients {

    /** Working-memory bound of one block of per-sample products, in floats. */
    public static final long BLOCK_FLOATS = 16L << 20;

    private PerSampleGradients() {
    }

    /**
     * Whether {@link #sum} sends {@code net}'s host inputs to {@link PooledCnnGradients}: the cnn without LoRA
     * branches, with a host back end forming the products.
     */
    static boolean takesPooledRoute(Net net, Kernels convKernels) {
        return net instanceof CnnNet cnn && cnn.pooledPerSample() && convKernels != null && convKernels.hostMemory();
    }

    /**
     * The per-sample sums for every parameter (and LoRA tensor) the forward pass of {@code net} uses, keyed by
     * parameter name ({@link Lora#nameA()} and {@link Lora#nameB()} for LoRA tensors), shaped like the parameter.
     *
     * @param labels      int64 labels [N] (cross-entropy), ignored for the label-free loss
     * @param absolute    Σ_n |g_n| instead of Σ_n g_n²
     * @param convKernels forms convolutions' per-sample products with this back end's kernels (null: libtorch's
     *                    grouped convolution): a host back end reads the input and output gradient directly
     *                    ({@link #directProducts}), a device back end the unfolded input ({@link #blockedProducts})
     */
    public static Map<String, Tensor> sum(Net net, Tensor x, Tensor labels, Loss loss, boolean absolute, Kernels convKernels) {
        if (net.training()) {
            throw new IllegalStateException("per-sample gradients need eval mode: in train mode BatchNorm mixes the samples");
        }
        if (takesPooledRoute(net, convKernels) && !x.is_cuda()) {
            // the vector back end's pooled kernels on its threads; the scalar reference for the scalar back end
            ai.lethe.kernels.VectorKernels vector = convKernels.unwrap() instanceof ai.lethe.kernels.VectorKernels v ? v : null;
            PooledConvKernels pooled = vector == null ? PooledConvKernels.scalar() : vector.pooledConv();
            return PooledCnnGradients.sumOnThreads((CnnNet) net, x, labels, loss, absolute, pooled, vector == null ? 1 : vector.threads());
        }
        List<TracedOp> ops;
        Tensor total;
        net.trace(true);
        try {
            Tensor logits = net.forward(x);
            total = summedLoss(logits, labels, loss);
            ops = new ArrayList<>(net.traced());
        } finally {
            net.trace(false);
        }
        requireEachParameterOnce(ops);
        Tensor[] outputs = new Tensor[ops.size()];
        for (int i = 0; i < outputs.length; i++) {
            outputs[i] = ops.get(i).output();
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        if (ops.isEmpty()) {
            return out;
        }
        // Gradients at the operations' outputs only: the parameters' own (batch) gradients are never formed.
        TensorVector grads = torch.grad(new TensorVector(total), new TensorVector(outputs), new TensorVector(),
                new BoolOptional(false), false, true);
        try (NoGradGuard g = new NoGradGuard()) {
            for (int i = 0; i < ops.size(); i++) {
                Tensor grad = grads.get(i);
                if (grad.defined()) {
                    add(out, ops.get(i), grad, absolute, convKernels);
                }
            }
        }
        return out;
    }

    /** Σ_n ℓ_n: cross-entropy summed over the batch, or Σ_n ‖f(x_n)‖² (each sample's label-free loss alone). */
    static Tensor summedLoss(Tensor logits, Tensor labels, Loss loss) {
        if (loss == Loss.CROSS_ENTROPY) {
            return torch.cross_entropy_loss(logits, labels, new TensorOptional(), 2 /* at::Reduction::Sum */, -100, 0.0);
        }
        return logits.square().sum();
    }

    private static void requireEachParameterOnce(List<TracedOp> ops) {
        Set<String> seen = new HashSet<>();
        for (TracedOp op : ops) {
            if (!seen.add(op.weightName())) {
                // A per-sample gradient is then a sum over uses, which the per-use formulas cannot square.
                throw new IllegalStateException(op.weightName() + " is used twice in one forward pass: per-sample formulas need one use");
            }
        }
    }

    static void add(Map<String, Tensor> out, TracedOp op, Tensor grad, boolean absolute, Kernels convKernels) {
        Tensor a = op.input().detach();
        long n = a.size(0);
        switch (op.kind()) {
            case LINEAR -> {
                long outFeatures = grad.size(-1);
                long inFeatures = a.size(-1);
                if (a.dim() == 2) { // |g_n a_nᵀ| = |g_n| |a_n|ᵀ element by element, as the squares factor too
                    out.put(op.weightName(), absolute ? grad.abs().t().mm(a.abs()) : grad.square().t().mm(a.square()));
                    putBias(out, op, reduce(grad, absolute));
                } else {
                    // [N, M..., features]: positions M sit inside the square (or |·|), as for a convolution
                    Tensor gm = grad.reshape(n, -1, outFeatures).transpose(1, 2);
                    Tensor am = a.reshape(n, -1, inFeatures).transpose(1, 2);
                    out.put(op.weightName(), blockedProducts(gm, inFeatures, (from, size) -> am.narrow(0, from, size), absolute, null));
                    putBias(out, op, reduce(gm.sum(2), absolute));
                }
            }
            case CONV -> {
                long k = op.kernel();
                Tensor gm = grad.reshape(n, grad.size(1), -1);
                Tensor w = convKernels == null ? groupedConvProducts(a, grad, op, absolute)
                        : convKernels.hostMemory() ? directProducts(a, grad, op, absolute, convKernels)
                        : blockedProducts(gm, a.size(1) * k * k, (from, size) -> torch.im2col(a.narrow(0, from, size),
                                new long[] {k, k}, new long[] {1, 1}, new long[] {op.padding(), op.padding()}, op.stride(), op.stride()),
                                absolute, convKernels);
                out.put(op.weightName(), w.reshape(op.weight().sizes()));
                putBias(out, op, reduce(gm.sum(2), absolute));
            }
            case BATCH_NORM -> {
                long[] view = new long[(int) a.dim()];
                java.util.Arrays.fill(view, 1);
                view[1] = a.size(1);
                Tensor xHat = a.sub(op.runningMean().view(view))
                        .mul(op.runningVar().add(new org.bytedeco.pytorch.Scalar(op.eps())).rsqrt().view(view));
                Tensor gamma = grad.mul(xHat);
                Tensor beta = grad;
                if (a.dim() > 2) {
                    gamma = gamma.reshape(n, a.size(1), -1).sum(2);
                    beta = grad.reshape(n, a.size(1), -1).sum(2);
                }
                out.put(op.weightName(), reduce(gamma, absolute));
                putBias(out, op, reduce(beta, absolute));
            }
            default -> throw new IllegalStateException("unknown operation " + op.kind());
        }
    }

    private static void putBias(Map<String, Tensor> out, TracedOp op, Tensor value) {
        if (op.biasName() != null) {
            out.put(op.biasName(), value);
        }
    }

    /** Σ over the first dimension of x² or |x|. */
    private static Tensor reduce(Tensor perSample, boolean absolute) {
        return (absolute ? perSample.abs() : perSample.square()).sum(0);
    }

    /**
     * Σ_n f(W_n) of a convolution with libtorch: the block's samples become groups of one grouped convolution
     * (input [1, B·C_in, H, W], output gradient [1, B·C_out, H', W'], groups B), whose weight gradient
     * [B·C_out, C_in, k, k] is exactly the block's per-sample gradients G_n · unfold(A_n)ᵀ. The backward-weights
     * kernel forms them without materialising the unfolded input, several times faster than unfold + bmm.
     * Blocks of B samples keep the per-sample gradients within {@link #BLOCK_FLOATS}.
     */
    static Tensor groupedConvProducts(Tensor a, Tensor grad, TracedOp op, boolean absolute) {
        long n = a.size(0);
        long cin = a.size(1);
        long cout = grad.size(1);
        long k = op.kernel();
        long perSample = cout * cin * k * k + cin * a.size(2) * a.size(3) + cout * grad.size(2) * grad.size(3);
        long block = Math.max(1, Math.min(n, BLOCK_FLOATS / perSample));
        boolean[] weightOnly = {false, true, false};
        org.bytedeco.javacpp.BoolPointer mask = new org.bytedeco.javacpp.BoolPointer(3);
        for (int i = 0; i < 3; i++) {
            mask.put(i, weightOnly[i]);
        }
        long[] none = {};
        long[] stride = {op.stride(), op.stride()};
        long[] padding = {op.padding(), op.padding()};
        long[] dilation = {1, 1};
        long[] outputPadding = {0, 0};
        Tensor total = null;
        for (long from = 0; from < n; from += block) {
            long size = Math.min(block, n - from);
            Tensor input = a.narrow(0, from, size).reshape(1, size * cin, a.size(2), a.size(3));
            Tensor output = grad.narrow(0, from, size).reshape(1, size * cout, grad.size(2), grad.size(3));
            Tensor shape = a.new_empty(size * cout, cin, k, k); // only its shape (and device) is read: no input gradient is asked for
            Tensor w = torch.convolution_backward(output, input, shape, none, stride, padding, dilation, false, outputPadding,
                    size, mask).get1().reshape(size, cout * cin * k * k);
            Tensor part = (absolute ? w.abs_() : w.square_()).sum(0);
            total = total == null ? part : total.add_(part);
        }
        return total == null ? a.new_zeros(cout, cin * k * k) : total;
    }

    /**
     * Σ_n f(W_n) of a convolution with a host back end's direct kernel
     * ({@link Kernels#accumulateConvPerSampleProducts}): the input and output gradient are read channels-last, as
     * the zoo's convolutions keep them, nothing is unfolded, and each W_n is squared as it is formed. Copied to the
     * kernel's arrays in blocks of samples within {@link #BLOCK_FLOATS} floats.
     */
    static Tensor directProducts(Tensor a, Tensor grad, TracedOp op, boolean absolute, Kernels kernels) {
        long n = a.size(0);
        int cin = Math.toIntExact(a.size(1)), inH = Math.toIntExact(a.size(2)), inW = Math.toIntExact(a.size(3));
        int cout = Math.toIntExact(grad.size(1)), outH = Math.toIntExact(grad.size(2)), outW = Math.toIntExact(grad.size(3));
        Tensor aLast = a.permute(0, 2, 3, 1); // NHWC views: contiguous already when the tensors are channels-last
        Tensor gLast = grad.permute(0, 2, 3, 1);
        long perSample = (long) cin * inH * inW + (long) cout * outH * outW;
        long block = Math.max(1, Math.min(n, BLOCK_FLOATS / Math.max(1, perSample)));
        int k = Math.toIntExact(op.kernel());
        float[] acc = new float[cout * cin * k * k];
        for (long from = 0; from < n; from += block) {
            int size = (int) Math.min(block, n - from);
            ConvGeometry conv = new ConvGeometry(size, cin, inH, inW, cout, outH, outW, k, Math.toIntExact(op.stride()),
                    Math.toIntExact(op.padding()));
            kernels.accumulateConvPerSampleProducts(HostTensors.wrap(acc), HostTensors.wrap(copy(gLast.narrow(0, from, size), 0)),
                    HostTensors.wrap(copy(aLast.narrow(0, from, size), 1)), conv, absolute);
        }
        Tensor t = torch.empty(cout, (long) cin * k * k);
        t.data_ptr_float().put(acc);
        return t;
    }

    /** The columns operand of samples [from, from + size), shaped [size, cols, positions]. */
    @FunctionalInterface
    interface Columns {
        Tensor of(long from, long size);
    }

    /**
     * Σ_n f(G_n · U_nᵀ) for G [N, rows, positions] and U [N, cols, positions] from {@code columns}, in blocks of samples within
     * {@link #BLOCK_FLOATS}; with {@code kernels} the back end's fused kernel forms and reduces each block.
     */
    static Tensor blockedProducts(Tensor g, long cols, Columns columns, boolean absolute, Kernels kernels) {
        long n = g.size(0);
        long rows = g.size(1);
        long positions = g.size(2);
        long perSample = rows * cols + cols * positions + rows * positions;
        long block = Math.max(1, Math.min(n, BLOCK_FLOATS / Math.max(1, perSample)));
        if (kernels != null) {
            return g.is_cuda() ? deviceProducts(g, columns, absolute, kernels, n, rows, cols, positions, block)
                    : kernelProducts(g, columns, absolute, kernels, n, rows, cols, positions, block);
        }
        Tensor total = null;
        for (long from = 0; from < n; from += block) {
            long size = Math.min(block, n - from);
            // W_nᵀ = U_n · G_nᵀ: with the unfolded input as the left operand libtorch's bmm runs about twice as fast
            Tensor w = columns.of(from, size).bmm(g.narrow(0, from, size).transpose(1, 2)); // [size, cols, rows]
            Tensor part = (absolute ? w.abs_() : w.square_()).sum(0);
            total = total == null ? part : total.add_(part);
        }
        return total == null ? g.new_zeros(rows, cols) : total.t();
    }

    private static Tensor kernelProducts(Tensor g, Columns columns, boolean absolute, Kernels kernels, long n, long rows,
                                         long cols, long positions, long block) {
        int r = Math.toIntExact(rows);
        int c = Math.toIntExact(cols);
        int p = Math.toIntExact(positions);
        try (TensorList acc = kernels.allocate(rows * cols)) {
            for (long from = 0; from < n; from += block) {
                int size = (int) Math.min(block, n - from);
                float[] gHost = floats(g.narrow(0, from, size));
                float[] uHost = floats(columns.of(from, size));
                try (TensorList gl = kernels.upload(gHost); TensorList ul = kernels.upload(uHost)) {
                    kernels.accumulatePerSampleProducts(acc, gl, ul, size, r, c, p, absolute);
                }
            }
            float[] result = kernels.download(acc)[0];
            Tensor t = torch.empty(rows, cols);
            t.data_ptr_float().put(result);
            return t;
        }
    }

    /**
     * The fused kernel on libtorch's own CUDA tensors: each block's output gradient and unfolded input are read in
     * place and the sums accumulate into a tensor on the device, so neither per-sample gradients nor the sums cross
     * to the host. The kernels join libtorch's current stream first: their reads are then ordered after the
     * operations that wrote the block, and before libtorch's allocator reuses the block's memory.
     */
    private static Tensor deviceProducts(Tensor g, Columns columns, boolean absolute, Kernels kernels, long n, long rows,
                                         long cols, long positions, long block) {
        ai.lethe.kernels.cuda.CudaKernels cuda = (ai.lethe.kernels.cuda.CudaKernels) kernels.unwrap();
        if (g.device().index() != cuda.deviceIndex()) {
            throw new IllegalStateException("per-sample products: the tensors are on " + g.device().str().getString()
                    + ", the kernels on cuda:" + cuda.deviceIndex());
        }
        cuda.useExternalStream(ai.lethe.model.CudaStreams.current(cuda.deviceIndex()));
        Tensor total = g.new_zeros(rows, cols); // contiguous, on the device
        try (TensorList acc = cuda.wrapBorrowed(new long[] {total.data_ptr().address()}, new long[] {rows * cols})) {
            for (long from = 0; from < n; from += block) {
                int size = (int) Math.min(block, n - from);
                Tensor gBlock = g.narrow(0, from, size).contiguous();
                Tensor uBlock = columns.of(from, size).contiguous();
                try (TensorList gl = cuda.wrapBorrowed(new long[] {gBlock.data_ptr().address()}, new long[] {gBlock.numel()});
                     TensorList ul = cuda.wrapBorrowed(new long[] {uBlock.data_ptr().address()}, new long[] {uBlock.numel()})) {
                    kernels.accumulatePerSampleProducts(acc, gl, ul, size, Math.toIntExact(rows), Math.toIntExact(cols),
                            Math.toIntExact(positions), absolute);
                }
            }
        }
        return total;
    }

    /**
     * Per thread, the arrays {@link #directProducts} last copied its operands into (output gradient, input): batches
     * mostly have one size, and a fresh array per convolution and batch (megabytes each, larger than G1's regions)
     * cost more in allocation than the copy itself.
     */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[2][]);

    /** t's elements in order, in this thread's scratch array {@code slot} (reused while sizes repeat). */
    private static float[] copy(Tensor t, int slot) {
        Tensor c = t.contiguous();
        int n = Math.toIntExact(c.numel());
        float[][] scratch = SCRATCH.get();
        if (scratch[slot] == null || scratch[slot].length != n) {
            scratch[slot] = new float[n];
        }
        c.data_ptr_float().get(scratch[slot]);
        return scratch[slot];
    }

    /** t's elements in order, in a fresh array. */
    static float[] floats(Tensor t) {
        Tensor c = t.contiguous();
        float[] out = new float[Math.toIntExact(c.numel())];
        c.data_ptr_float().get(out);
        return out;
    }
}
