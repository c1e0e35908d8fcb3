package ai.lethe.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.NamedTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.named_parameter_iterator;
import org.bytedeco.pytorch.named_parameter_list;

import ai.lethe.io.AtomicFiles;
import ai.lethe.io.LetheFormatException;

/** A TorchScript module ({@code torch.jit.save}) run by libtorch through the JavaCPP preset. */
public final class TorchScriptModel extends LibtorchModel {

    private final Path source;
    private final JitModule module;

    private TorchScriptModel(Path source, JitModule module, List<ParameterInfo> parameters, Tensor[] tensors) {
        super(parameters, tensors);
        this.source = source;
        this.module = module;
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
        return of(path, module);
    }

    /** Takes the module's parameters (float32, contiguous) as the model's; {@code source} names it in messages. */
    private static TorchScriptModel of(Path path, JitModule module) throws LetheFormatException {
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
        return new TorchScriptModel(path, module, infos, tensors.toArray(new Tensor[0]));
    }

    @Override
    public String description() {
        return "torchscript " + source;
    }

    @Override
    protected Tensor forwardRaw(Tensor x) {
        IValueVector in = new IValueVector();
        in.push_back(new IValue(x));
        IValue out = module.forward(in);
        if (!out.isTensor()) {
            throw new ModelException("the model's forward() returns " + out.tagKind().getString() + ", not a tensor of logits");
        }
        return out.toTensor();
    }

    /** libtorch moves the module's parameters and buffers itself, keeping the tensor objects (set_data). */
    @Override
    protected void moveTensors(org.bytedeco.pytorch.Device target) {
        module.to(target, false);
    }

    /**
     * A second instance of the module, loaded again from its file, with this one's current parameters and buffers
     * copied in, on the same device and in the same mode. (JitModule's clone() and deepcopy() give modules whose
     * forward does not reach the parameters their named_parameters() list, so gradients never arrive there.)
     */
    @Override
    public TorchScriptModel replicate() {
        checkOpen();
        TorchScriptModel m;
        try {
            m = load(source);
        } catch (IOException e) {
            throw new ModelException(description() + " cannot be loaded again for a worker: " + e.getMessage());
        }
        try (PointerScope scope = new PointerScope(); org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
            if (cudaDevice() >= 0) {
                m.toCuda(cudaDevice());
            }
            Tensor[] mine = tensors();
            Tensor[] theirs = m.tensors();
            for (int i = 0; i < mine.length; i++) {
                theirs[i].copy_(mine[i]);
            }
            java.util.Map<String, Tensor> buffers = buffers(module);
            buffers(m.module).forEach((name, t) -> t.copy_(buffers.get(name)));
            m.setTraining(training);
            m.parametersChanged();
            return m;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    private static java.util.Map<String, Tensor> buffers(JitModule module) {
        java.util.Map<String, Tensor> out = new java.util.LinkedHashMap<>();
        org.bytedeco.pytorch.named_buffer_list list = module.named_buffers(true);
        for (org.bytedeco.pytorch.named_buffer_iterator it = list.begin(); it.notEquals(list.end()); it.increment()) {
            NamedTensor named = it.access();
            out.put(named.name().getString(), new Tensor(named.value()));
        }
        return out;
    }

    private boolean training;

    @Override
    public void setTraining(boolean training) {
        this.training = training;
        checkOpen();
        module.train(training);
    }

    /** TorchScript, or only the parameters as a safetensors state_dict when the name ends in .safetensors. */
    @Override
    public void save(Path path) throws IOException {
        checkOpen();
        if (Weights.isSafetensors(path)) {
            Weights.save(this, path);
            return;
        }
        AtomicFiles.write(path, (AtomicFiles.PathWriter) tmp -> {
            reserve(tmp, 4 * parameterCount() + parameterCount() / 8 + (256 << 10));
            // A model on a GPU is written with host tensors, so the file loads anywhere (torch.jit.load without
            // map_location, a machine without a GPU): the module visits the host for the write.
            boolean onGpu = cudaDevice() >= 0;
            try {
                if (onGpu) {
                    module.to(new org.bytedeco.pytorch.Device("cpu"), false);
                }
                module.save(tmp.toString());
            } catch (RuntimeException e) {
                throw new IOException("cannot save TorchScript to " + path + ": " + Libtorch.firstLine(e), e);
            } finally {
                if (onGpu) {
                    module.to(new org.bytedeco.pytorch.Device("cuda:" + cudaDevice()), false);
                }
            }
        });
    }

    /**
     * Writes {@code bytes} to {@code tmp} before libtorch writes the model there. libtorch's writer aborts the
     * whole process (std::terminate from a destructor) when the disk fills under it, so a full file system must
     * fail here, in Java, with "No space left on device". The estimate covers the fp32 parameters and the zip's
     * code and alignment; libtorch truncates the file and writes into the space just freed.
     */
    private static void reserve(Path tmp, long bytes) throws IOException {
        java.nio.ByteBuffer zeros = java.nio.ByteBuffer.allocate(1 << 16);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE,
                java.nio.file.StandardOpenOption.CREATE)) {
            for (long left = bytes; left > 0; left -= zeros.capacity()) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), left));
                while (zeros.hasRemaining()) {
                    ch.write(zeros);
                }
            }
            ch.force(false); // file systems that allocate lazily report a full disk here
        }
    }

    @Override
    protected void release() {
        module.close();
    }
}
