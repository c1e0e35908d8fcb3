package ai.lethe.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.NamedTensor;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.named_parameter_iterator;
import org.bytedeco.pytorch.named_parameter_list;

import ai.lethe.data.Batch;
import ai.lethe.io.AtomicFiles;
import ai.lethe.io.LetheFormatException;

/** A TorchScript module ({@code torch.jit.save}) run by libtorch through the JavaCPP preset. */
public final class TorchScriptModel implements Model {

    private final Path source;
    private final JitModule module;
    private final List<ParameterInfo> parameters;
    private final Tensor[] tensors;
    private String fingerprint;
    private boolean closed;

    private TorchScriptModel(Path source, JitModule module, List<ParameterInfo> parameters, Tensor[] tensors) {
        this.source = source;
        this.module = module;
        this.parameters = parameters;
        this.tensors = tensors;
    }

    /** Loads a TorchScript file; a missing, truncated or foreign file gives a one-line error. */
    public static TorchScriptModel load(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new NoSuchFileException(path.toString(), null, "model file not found");
        }
        Libtorch.ensureLoaded();
        JitModule module;
        try {
            module = torch.load(path.toString());
        } catch (RuntimeException e) {
            throw new LetheFormatException(path + ": not a loadable TorchScript model (" + Libtorch.firstLine(e) + ")");
        }
        module.eval();
        List<ParameterInfo> infos = new ArrayList<>();
        List<Tensor> tensors = new ArrayList<>();
        named_parameter_list list = module.named_parameters(true);
        for (named_parameter_iterator it = list.begin(); it.notEquals(list.end()); it.increment()) {
            NamedTensor named = it.access();
            String name = named.name().getString();
            // value() points into the temporary NamedTensor: take our own reference to the parameter.
            Tensor t = new Tensor(named.value());
            if (t.scalar_type().value != torch.ScalarType.Float.value) { // JavaCPP enums are not interned: compare values
                throw new LetheFormatException(path + ": parameter " + name + " is " + t.scalar_type()
                        + "; Lethe works on float32 models");
            }
            if (!t.is_contiguous()) {
                throw new LetheFormatException(path + ": parameter " + name + " is not contiguous");
            }
            t.requires_grad_(true);
            infos.add(new ParameterInfo(name, t.sizes().vec().get()));
            tensors.add(t);
        }
        if (infos.isEmpty()) {
            throw new LetheFormatException(path + ": the model has no parameters");
        }
        return new TorchScriptModel(path, module, Collections.unmodifiableList(infos), tensors.toArray(new Tensor[0]));
    }

    @Override
    public String description() {
        return "torchscript " + source;
    }

    @Override
    public List<ParameterInfo> parameters() {
        return parameters;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("model is closed");
        }
    }

    // ---- forward / backward ---------------------------------------------------------------------

    private Tensor forward(Tensor x, long[] shape) {
        IValueVector in = new IValueVector();
        in.push_back(new IValue(x));
        IValue out;
        try {
            out = module.forward(in);
        } catch (RuntimeException e) {
            throw new ModelException("the model rejects input of shape " + Arrays.toString(shape) + ": " + Libtorch.firstLine(e));
        }
        if (!out.isTensor()) {
            throw new ModelException("the model's forward() returns " + out.tagKind().getString() + ", not a tensor of logits");
        }
        Tensor logits = out.toTensor();
        if (logits.dim() != 2 || logits.size(0) != shape[0]) {
            throw new ModelException("the model returns shape " + Arrays.toString(logits.sizes().vec().get())
                    + " for input " + Arrays.toString(shape) + "; expected logits [batch, classes]");
        }
        return logits;
    }

    private static Tensor input(Batch batch) {
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

    @Override
    public int numClasses(int[] sampleShape) {
        checkOpen();
        long[] shape = new long[sampleShape.length + 1];
        shape[0] = 1;
        for (int i = 0; i < sampleShape.length; i++) {
            shape[i + 1] = sampleShape[i];
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor out = forward(torch.zeros(shape), shape);
            return (int) out.size(1);
        }
    }

    @Override
    public float[] logits(Batch batch) {
        checkOpen();
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor out = forward(input(batch), batch.shape()).contiguous();
            float[] result = new float[(int) out.numel()];
            out.data_ptr_float().get(result);
            return result;
        }
    }

    @Override
    public double backward(Batch batch, Loss loss) {
        checkOpen();
        try (PointerScope scope = new PointerScope()) {
            for (Tensor p : tensors) {
                Tensor g = p.grad();
                if (g.defined()) {
                    g.zero_();
                }
            }
            Tensor out = forward(input(batch), batch.shape());
            Tensor value;
            if (loss == Loss.CROSS_ENTROPY) {
                long[] labels = new long[batch.size()];
                for (int i = 0; i < labels.length; i++) {
                    labels[i] = batch.y()[i];
                }
                Tensor y = torch.empty(new long[] {labels.length}, new TensorOptions(torch.ScalarType.Long), null);
                y.data_ptr_long().put(labels);
                value = torch.cross_entropy(out, y);
            } else {
                // mean over the batch of ||f(x)||_2^2, written as the reference writes it
                value = out.norm(new ScalarOptional(new Scalar(2)), new long[] {1}, false).pow(new Scalar(2)).mean();
            }
            try {
                value.backward();
            } catch (RuntimeException e) {
                throw new ModelException("backward pass failed: " + Libtorch.firstLine(e));
            }
            return value.item_double();
        }
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
                g.contiguous().data_ptr_float().get(dst[i]);
            }
        }
    }

    @Override
    public void readParameters(float[][] dst) {
        checkOpen();
        requireShapes(dst);
        try (PointerScope scope = new PointerScope()) {
            for (int i = 0; i < tensors.length; i++) {
                tensors[i].data_ptr_float().get(dst[i]);
            }
        }
    }

    @Override
    public void writeParameters(float[][] src) {
        checkOpen();
        requireShapes(src);
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (int i = 0; i < tensors.length; i++) {
                tensors[i].data_ptr_float().put(src[i]);
            }
        }
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
    public void save(Path path) throws IOException {
        checkOpen();
        AtomicFiles.write(path, (AtomicFiles.PathWriter) tmp -> {
            try {
                module.save(tmp.toString());
            } catch (RuntimeException e) {
                throw new IOException("cannot save TorchScript to " + path + ": " + Libtorch.firstLine(e), e);
            }
        });
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            for (Tensor t : tensors) {
                t.close();
            }
            module.close();
        }
    }
}
