package ai.lethe.model;

import java.util.Arrays;
import java.util.List;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

import ai.lethe.data.Batch;
import ai.lethe.profile.Profiler;

/**
 * What every libtorch-backed model shares: inputs and labels as tensors, the two losses, gradients and
 * parameter copies through the parameters' own memory, the fingerprint. Subclasses say how a forward pass
 * runs and how the model is saved. Every call runs inside a PointerScope so native temporaries are freed
 * when it returns.
 */
public abstract class LibtorchModel implements Model {

    private final List<ParameterInfo> parameters;
    private final Tensor[] tensors;
    private String fingerprint;
    private boolean closed;
    /** The CUDA device the tensors live on, -1 on the host. */
    private int cudaDevice = -1;
    private org.bytedeco.pytorch.Device device;
    /** Set by a view binding: zeroes every gradient in one kernel call; false when it could not. */
    private java.util.function.BooleanSupplier gradientZeroer;

    protected LibtorchModel(List<ParameterInfo> parameters, Tensor[] tensors) {
        this.parameters = List.copyOf(parameters);
        this.tensors = tensors;
    }

    /** The raw forward pass: logits [N, classes] for x [N, ...]. Throws libtorch's errors as they come. */
    protected abstract Tensor forwardRaw(Tensor x);

    @Override
    public List<ParameterInfo> parameters() {
        return parameters;
    }

    /** The parameter tensors, in {@link #parameters()} order (shared with the model). */
    protected Tensor[] tensors() {
        return tensors;
    }

    protected void checkOpen() {
        if (closed) {
            throw new IllegalStateException("model is closed");
        }
    }

    // ---- placement ------------------------------------------------------------------------------

    @Override
    public String placement() {
        return cudaDevice < 0 ? "cpu" : "cuda:" + cudaDevice;
    }

    /** The CUDA device the model is on, -1 on the host. */
    public int cudaDevice() {
        return cudaDevice;
    }

    @Override
    public void toCuda(int deviceIndex) {
        checkOpen();
        if (cudaDevice == deviceIndex) {
            return;
        }
        Libtorch.requireCuda(deviceIndex);
        org.bytedeco.pytorch.Device target = new org.bytedeco.pytorch.Device("cuda:" + deviceIndex);
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            moveTensors(target);
        } catch (ModelException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ModelException(description() + " cannot move to cuda:" + deviceIndex + ": " + Libtorch.firstLine(e));
        }
        device = target;
        cudaDevice = deviceIndex;
    }

    /**
     * Moves every parameter and buffer to {@code target} keeping the Tensor handles (set_data), so the tensors this
     * class holds stay the model's parameters. Subclasses with a module of their own let it move itself.
     */
    protected void moveTensors(org.bytedeco.pytorch.Device target) {
        for (Tensor t : tensors) {
            moveInPlace(t, target);
        }
    }

    /** Points {@code t} at a copy of its values on {@code target}: the same tensor object, new memory. */
    protected static void moveInPlace(Tensor t, org.bytedeco.pytorch.Device target) {
        t.set_data(t.to(target, t.scalar_type()));
    }

    /**
     * A tensor on the model's device (itself when it is there already, or the model is on the host); a copy from the
     * host overlaps compute when the source is pinned.
     */
    protected Tensor onDevice(Tensor t) {
        return device == null ? t : t.to(device, t.scalar_type(), true, false, new org.bytedeco.pytorch.MemoryFormatOptional());
    }

    /** The batch's samples as a float tensor on the model's device: staged in pinned memory when that is a GPU. */
    protected Tensor deviceInput(Batch batch) {
        if (batch.resident()) {
            Tensor rows = input(batch); // where the data set lives: moved only when that is not the model's device
            return device == null ? onHost(rows) : onDevice(rows);
        }
        if (device == null) {
            return input(batch);
        }
        long[] shape = batch.shape();
        Tensor x = torch.empty(shape, new TensorOptions(torch.ScalarType.Float).pinned_memory(new org.bytedeco.pytorch.BoolOptional(true)),
                new org.bytedeco.pytorch.MemoryFormatOptional());
        long n = x.numel();
        if (n > batch.x().length) {
            throw new IllegalArgumentException("batch holds " + batch.x().length + " floats, its shape needs " + n);
        }
        x.data_ptr_float().put(batch.x(), 0, (int) n);
        return onDevice(x);
    }

    /** A host view of {@code t}: itself on the host, a copy from a GPU. */
    protected static Tensor onHost(Tensor t) {
        return t.is_cuda() ? t.cpu() : t;
    }

    private static final java.util.concurrent.atomic.AtomicBoolean VIEW_UNAVAILABLE_NOTED = new java.util.concurrent.atomic.AtomicBoolean();

    void gradientZeroer(java.util.function.BooleanSupplier zeroer) {
        this.gradientZeroer = zeroer;
    }

    /**
     * A view binding when the model is on the GPU of a CUDA back end (the kernels then read and write libtorch's own
     * tensors on its stream); a host copy otherwise.
     */
    @Override
    public TensorBinding bind(ai.lethe.kernels.Kernels kernels) {
        checkOpen();
        ai.lethe.kernels.Kernels k = kernels.unwrap();
        if (cudaDevice >= 0 && k instanceof ai.lethe.kernels.cuda.CudaKernels cuda && cuda.deviceIndex() == cudaDevice) {
            try {
                return new CudaTensorBinding(this, cuda);
            } catch (LinkageError e) {
                // libtorch's CUDA stream API could not be linked (a preset mismatch): still correct through host copies
                if (VIEW_UNAVAILABLE_NOTED.compareAndSet(false, true)) {
                    System.err.println("note: libtorch's CUDA stream API is unavailable (" + e + "): gradients go through host"
                            + " memory, which is slower");
                }
            }
        }
        return new HostCopyBinding(this, kernels);
    }

    /** Forward with the output checked: one clear line when the model rejects the input or returns no logits. */
    protected Tensor forward(Tensor x, long[] shape) {
        Tensor logits;
        try {
            logits = forwardRaw(x);
        } catch (ModelException e) {
            throw e;
        } catch (RuntimeException e) {
            ModelException oom = outOfMemory(e, shape[0]);
            throw oom != null ? oom
                    : new ModelException("the model rejects input of shape " + Arrays.toString(shape) + ": " + Libtorch.firstLine(e));
        }
        if (logits.dim() != 2 || logits.size(0) != shape[0]) {
            throw new ModelException("the model returns shape " + Arrays.toString(logits.sizes().vec().get())
                    + " for input " + Arrays.toString(shape) + "; expected logits [batch, classes]");
        }
        return logits;
    }

    /**
     * The batch's samples as a float tensor [N, ...]: on the host, or for a batch of a resident data set the rows
     * where that data set lives.
     */
    public static Tensor input(Batch batch) {
        if (batch.resident()) {
            if (!(batch.source() instanceof DeviceDataset d)) {
                throw new IllegalArgumentException("a resident batch of " + batch.source().description()
                        + " needs a data set placed by DeviceDataset");
            }
            return d.rows(batch);
        }
        long[] shape = batch.shape();
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n > batch.x().length) {
            throw new IllegalArgumentException("batch holds " + batch.x().length + " floats, its shape needs " + n);
        }
        Tensor x = torch.empty(shape);
        x.data_ptr_float().put(batch.x(), 0, (int) n);
        return x;
    }

    /** The batch's labels as an int64 tensor [N]. */
    public static Tensor labels(Batch batch) {
        long[] labels = new long[batch.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = batch.y()[i];
        }
        Tensor y = torch.empty(new long[] {labels.length}, new TensorOptions(torch.ScalarType.Long), null);
        y.data_ptr_long().put(labels);
        return y;
    }

    /** The loss of logits for a batch, as a scalar tensor that backward() can start from. */
    public static Tensor loss(Tensor logits, Batch batch, Loss loss) {
        if (loss == Loss.CROSS_ENTROPY) {
            Tensor y = labels(batch);
            if (logits.is_cuda()) {
                y = y.to(logits.device(), y.scalar_type(), true, false, new org.bytedeco.pytorch.MemoryFormatOptional());
            }
            return torch.cross_entropy(logits, y);
        }
        // mean over the batch of ||f(x)||_2^2, written as the LFSSD reference writes it
        return logits.norm(new ScalarOptional(new Scalar(2)), new long[] {1}, false).pow(new Scalar(2)).mean();
    }

    @Override
    public int numClasses(int[] sampleShape) {
        checkOpen();
        long[] shape = new long[sampleShape.length + 1];
        shape[0] = 1;
        for (int i = 0; i < sampleShape.length; i++) {
            shape[i + 1] = sampleShape[i];
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            return (int) forward(onDevice(torch.zeros(shape)), shape).size(1);
        }
    }

    @Override
    public float[] logits(Batch batch) {
        checkOpen();
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard();
             Profiler.Span s = Profiler.span("forward")) {
            Tensor out = onHost(forward(deviceInput(batch), batch.shape())).contiguous();
            float[] result = new float[(int) out.numel()];
            out.data_ptr_float().get(result);
            return result;
        }
    }

    /**
     * libtorch's CUDA out-of-memory error as one line that names the batch size and what was asked for (its message
     * says "Tried to allocate 1.50 GiB"), with the way out; null for any other error.
     */
    protected static ModelException outOfMemory(RuntimeException e, long batchSize) {
        String m = String.valueOf(e.getMessage());
        if (!m.contains("out of memory")) {
            return null;
        }
        java.util.regex.Matcher asked = java.util.regex.Pattern.compile("Tried to allocate ([0-9.]+ [KMGT]?i?B)").matcher(m);
        return new ModelException("CUDA out of memory with a batch of " + batchSize + " samples"
                + (asked.find() ? " (libtorch asked for " + asked.group(1) + " more)" : "") + ": use a smaller --batch-size");
    }

    /** Resets every parameter's gradient to zero (where one exists). */
    protected void zeroGradients() {
        if (gradientZeroer != null && gradientZeroer.getAsBoolean()) {
            return;
        }
        for (Tensor p : tensors) {
            Tensor g = p.grad();
            if (g.defined()) {
                g.zero_();
            }
        }
    }

    @Override
    public double backward(Batch batch, Loss loss) {
        return runBackward(batch, loss, true);
    }

    @Override
    public void backwardOnly(Batch batch, Loss loss) {
        runBackward(batch, loss, false);
    }

    private double runBackward(Batch batch, Loss loss, boolean readLoss) {
        checkOpen();
        try (PointerScope scope = new PointerScope()) {
            zeroGradients();
            Tensor value;
            try (Profiler.Span s = Profiler.span("forward")) {
                value = loss(forward(deviceInput(batch), batch.shape()), batch, loss);
            }
            try (Profiler.Span s = Profiler.span("backward")) {
                value.backward();
            } catch (RuntimeException e) {
                ModelException oom = outOfMemory(e, batch.size());
                throw oom != null ? oom : new ModelException("backward pass failed: " + Libtorch.firstLine(e));
            }
            return readLoss ? value.item_double() : Double.NaN; // item() waits for the device
        }
    }

    /** Any libtorch model can run its single-sample passes on concurrent threads. */
    @Override
    public PerSamplePath perSamplePath() {
        return PerSamplePath.THREADED;
    }

    /**
     * {@link PerSamplePath#THREADED}: the samples are split into one contiguous run per thread; each thread takes
     * its samples' gradients with {@code torch::autograd::grad} (which leaves the shared {@code .grad} fields alone)
     * and sums their squares (or absolute values) into its own buffers, which are added in thread order.
     */
    @Override
    public void backwardPerSample(Batch batch, Loss loss, boolean absolute, PerSamplePath path, ai.lethe.kernels.Kernels kernels) {
        checkOpen();
        if (path != PerSamplePath.THREADED) {
            throw new UnsupportedOperationException(description() + " has no " + path + " per-sample path");
        }
        int threads = Math.min(batch.size(), PER_SAMPLE_THREADS);
        java.util.List<java.util.concurrent.Future<Tensor[]>> parts = new java.util.ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int from = (int) ((long) batch.size() * t / threads);
            int to = (int) ((long) batch.size() * (t + 1) / threads);
            parts.add(PerSampleThreads.start(() -> sumSamples(batch, from, to, loss, absolute)));
        }
        java.util.List<Tensor[]> sums = PerSampleThreads.joinAll(parts);
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor[] totals = sums.get(0);
            for (int i = 0; i < tensors.length; i++) {
                for (int t = 1; t < sums.size(); t++) {
                    totals[i].add_(sums.get(t)[i]);
                }
            }
            setGradients(totals);
        } finally {
            for (Tensor[] part : sums) {
                for (Tensor t : part) {
                    t.close();
                }
            }
        }
    }

    /**
     * Makes {@code values} (shaped like the parameters, null where a parameter took no part: zero) the parameters'
     * gradients, copied into the gradient tensors where they exist, so a view binding's pointers stay valid.
     */
    protected void setGradients(Tensor[] values) {
        zeroGradients();
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (int i = 0; i < tensors.length; i++) {
                Tensor grad = tensors[i].grad();
                if (values[i] == null) {
                    continue; // zeroed above, or no gradient at all: reads as zero
                }
                if (values[i].numel() != tensors[i].numel()) {
                    throw new IllegalStateException("per-sample sum of " + parameters().get(i).name() + " has " + values[i].numel()
                            + " values, the parameter " + tensors[i].numel());
                }
                if (grad.defined()) {
                    grad.copy_(values[i].reshape(tensors[i].sizes()));
                } else {
                    tensors[i].mutable_grad().put(values[i].reshape(tensors[i].sizes()).contiguous().clone());
                }
            }
        }
    }

    /** Threads for {@link PerSamplePath#THREADED}: one per processor. */
    static final int PER_SAMPLE_THREADS = Math.max(1, Runtime.getRuntime().availableProcessors());

    /** Σ over samples [from, to) of their gradients squared (or absolute), as tensors the caller owns. */
    private Tensor[] sumSamples(Batch batch, int from, int to, Loss loss, boolean absolute) {
        Tensor[] sums = new Tensor[tensors.length];
        for (int i = 0; i < tensors.length; i++) {
            sums[i] = torch.zeros_like(tensors[i]); // outside any scope: the caller closes them
        }
        boolean done = false;
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.TensorVector inputs = new org.bytedeco.pytorch.TensorVector(tensors);
            for (int n = from; n < to; n++) {
                try (PointerScope sample = new PointerScope()) {
                    Batch one = batch.sample(n);
                    Tensor value = loss(forward(deviceInput(one), one.shape()), one, loss);
                    org.bytedeco.pytorch.TensorVector grads;
                    try {
                        grads = torch.grad(new org.bytedeco.pytorch.TensorVector(value), inputs,
                                new org.bytedeco.pytorch.TensorVector(), new org.bytedeco.pytorch.BoolOptional(false), false, true);
                    } catch (RuntimeException e) {
                        throw new ModelException("backward pass failed: " + Libtorch.firstLine(e));
                    }
                    try (NoGradGuard g = new NoGradGuard()) {
                        for (int i = 0; i < tensors.length; i++) {
                            Tensor gi = grads.get(i);
                            if (gi.defined()) {
                                sums[i].add_(absolute ? gi.abs() : gi.square());
                            }
                        }
                    }
                }
            }
            done = true;
        } finally {
            if (!done) {
                for (Tensor t : sums) {
                    t.close();
                }
            }
        }
        return sums;
    }

    @Override
    public void gradients(float[][] dst) {
        checkOpen();
        requireShapes(dst);
        try (PointerScope scope = new PointerScope()) {
            for (int i = 0; i < tensors.length; i++) {
                Tensor g = tensors[i].grad();
                if (!g.defined()) {
                    Arrays.fill(dst[i], 0f); // this parameter took no part in the loss
                    continue;
                }
                onHost(g.contiguous()).data_ptr_float().get(dst[i]);
            }
        }
    }

    @Override
    public void readParameters(float[][] dst) {
        checkOpen();
        requireShapes(dst);
        try (PointerScope scope = new PointerScope()) {
            for (int i = 0; i < tensors.length; i++) {
                onHost(tensors[i]).data_ptr_float().get(dst[i]);
            }
        }
    }

    @Override
    public void writeParameters(float[][] src) {
        checkOpen();
        requireShapes(src);
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (int i = 0; i < tensors.length; i++) {
                if (device == null) {
                    tensors[i].data_ptr_float().put(src[i]);
                } else {
                    Tensor host = torch.empty(tensors[i].sizes().vec().get());
                    host.data_ptr_float().put(src[i]);
                    tensors[i].copy_(host);
                }
            }
        }
        fingerprint = null;
    }

    /** Parameters were changed behind {@link #writeParameters}'s back (an optimiser step in libtorch). */
    protected void parametersChanged() {
        fingerprint = null;
    }

    private void requireShapes(float[][] arrays) {
        if (arrays.length != tensors.length) {
            throw new IllegalArgumentException(arrays.length + " arrays for " + tensors.length + " parameters");
        }
        for (int i = 0; i < arrays.length; i++) {
            if (arrays[i].length != parameters.get(i).numel()) {
                throw new IllegalArgumentException("parameter " + parameters.get(i) + " needs " + parameters.get(i).numel()
                        + " values, got " + arrays[i].length);
            }
        }
    }

    @Override
    public String fingerprint() {
        if (fingerprint == null) {
            fingerprint = Fingerprint.of(parameters, readParameters());
        }
        return fingerprint;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            for (Tensor t : tensors) {
                t.close();
            }
            release();
        }
    }

    /** Frees what the subclass holds beyond the parameter tensors. */
    protected void release() {
    }
}
