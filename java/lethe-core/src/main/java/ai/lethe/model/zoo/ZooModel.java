package ai.lethe.model.zoo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

import ai.lethe.io.LetheFormatException;
import ai.lethe.io.SafetensorsFile;
import ai.lethe.io.SafetensorsWriter;
import ai.lethe.model.LibtorchModel;
import ai.lethe.model.ParameterInfo;

/**
 * A zoo network as a {@link ai.lethe.model.Model}. Its file is a safetensors state_dict (parameters and
 * BatchNorm buffers under PyTorch's names, so Python's {@code load_state_dict} reads it) whose metadata names
 * the architecture and shape; a plain state_dict saved by PyTorch loads too when the architecture is given.
 */
public final class ZooModel extends LibtorchModel {

    public static final String FORMAT = "lethe-model/1";

    private final Net net;
    private final String source;
    private final Map<String, String> metadata;

    private ZooModel(Net net, String source, Map<String, String> metadata) {
        super(infos(net), net.parameters().values().toArray(new Tensor[0]));
        this.net = net;
        this.source = source;
        this.metadata = new LinkedHashMap<>(metadata);
    }

    private static List<ParameterInfo> infos(Net net) {
        List<ParameterInfo> out = new ArrayList<>();
        net.parameters().forEach((name, t) -> out.add(new ParameterInfo(name, t.sizes().vec().get())));
        return out;
    }

    /** A freshly initialised model. */
    public static ZooModel create(String arch, ZooConfig config, long seed) {
        Net net = Zoo.create(arch, config, seed);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("lethe.init_seed", Long.toString(seed));
        return new ZooModel(net, "new " + net.arch() + " (seed " + seed + ")", meta);
    }

    /**
     * Loads a model file. {@code arch} may be null when the file names its architecture in its metadata
     * (files Lethe writes do); a plain state_dict needs it.
     */
    public static ZooModel load(Path path, String arch) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new NoSuchFileException(path.toString(), null, "model file not found");
        }
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            Map<String, String> meta = f.metadata();
            ai.lethe.importance.Provenance.refuseImportance(meta, path, "a model");
            String a = arch != null ? Zoo.normalise(arch) : meta.get("lethe.arch");
            if (a == null) {
                throw new LetheFormatException(path + " is a plain safetensors state_dict without Lethe metadata: say which "
                        + "architecture it is with --arch (" + String.join(", ", Zoo.ARCHITECTURES) + ")");
            }
            ZooConfig config;
            try {
                config = meta.containsKey("lethe.num_classes") ? ZooConfig.fromMetadata(meta) : infer(a, f);
            } catch (IllegalArgumentException e) {
                throw new LetheFormatException(path + ": " + e.getMessage());
            }
            Net net = Zoo.createToFill(a, config); // loadStateDict sets every parameter and buffer or throws
            loadStateDict(net, f, path);
            return new ZooModel(net, path.toString(), meta);
        }
    }

    /** The shape of a plain PyTorch state_dict, read off its tensors. */
    static ZooConfig infer(String arch, SafetensorsFile f) throws LetheFormatException {
        switch (arch) {
            case "cnn": {
                long[] conv1 = f.entry("conv1.weight").shape();
                long fcIn = f.entry("fc1.weight").shape()[1];
                int side = (int) Math.round(Math.sqrt(fcIn / 32.0));
                return ZooConfig.defaults((int) conv1[1], side * 4, (int) f.entry("fc2.weight").shape()[0]);
            }
            case "mlp": {
                long[] fc1 = f.entry("fc1.weight").shape();
                int channels = isSquare(fc1[1]) ? 1 : 3;
                int side = (int) Math.round(Math.sqrt(fc1[1] / (double) channels));
                return new ZooConfig(channels, side, (int) f.entry("fc2.weight").shape()[0], 64, (int) fc1[0]);
            }
            default: {
                long[] conv1 = f.entry("conv1.weight").shape();
                return new ZooConfig((int) conv1[1], arch.equals("resnet18") ? 224 : 32, (int) f.entry("fc.weight").shape()[0],
                        (int) conv1[0], 1000);
            }
        }
    }

    private static boolean isSquare(long n) {
        long r = Math.round(Math.sqrt(n));
        return r * r == n;
    }

    /** Copies every parameter and buffer from the file, which must hold exactly the network's tensors. */
    static void loadStateDict(Net net, SafetensorsFile f, Path path) throws IOException {
        Map<String, Tensor> wanted = new LinkedHashMap<>(net.parameters());
        wanted.putAll(net.buffers());
        Set<String> unexpected = new LinkedHashSet<>();
        for (SafetensorsFile.Entry e : f.entries()) {
            if (!wanted.containsKey(e.name())) {
                unexpected.add(e.name());
            }
        }
        List<String> missing = new ArrayList<>();
        for (String name : wanted.keySet()) {
            if (!f.contains(name)) {
                missing.add(name);
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new LetheFormatException(path + " does not fit " + net.arch() + ": "
                    + (missing.isEmpty() ? "" : "missing " + abbreviate(missing)) + (missing.isEmpty() || unexpected.isEmpty() ? "" : "; ")
                    + (unexpected.isEmpty() ? "" : "unexpected " + abbreviate(new ArrayList<>(unexpected))));
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> w : wanted.entrySet()) {
                SafetensorsFile.Entry e = f.entry(w.getKey());
                long[] shape = w.getValue().sizes().vec().get();
                if (!Arrays.equals(e.shape(), shape) && !(shape.length == 0 && e.numel() == 1)) {
                    throw new LetheFormatException(path + ": " + w.getKey() + " has shape " + Arrays.toString(e.shape())
                            + ", " + net.arch() + " with this configuration needs " + Arrays.toString(shape));
                }
                if (w.getKey().endsWith("num_batches_tracked")) {
                    long[] v = new long[1];
                    f.readLongs(w.getKey(), 0, v, 0, 1);
                    w.getValue().data_ptr_long().put(v[0]);
                } else {
                    float[] v = f.readFloats(w.getKey());
                    w.getValue().data_ptr_float().put(v);
                }
            }
        }
    }

    private static String abbreviate(List<String> names) {
        return names.size() <= 4 ? names.toString() : names.subList(0, 4) + " and " + (names.size() - 4) + " more";
    }

    /** The network, for training and for methods that need its layers (RFA). */
    public Net net() {
        return net;
    }

    @Override
    public String description() {
        return net.arch() + " " + source;
    }

    @Override
    protected Tensor forwardRaw(Tensor x) {
        return net.forward(x);
    }

    /** Zoo layers are all known: per-sample gradients come from one batched pass ({@link PerSampleGradients}). */
    @Override
    public ai.lethe.model.PerSamplePath perSamplePath() {
        return ai.lethe.model.PerSamplePath.BATCHED;
    }

    /**
     * {@link ai.lethe.model.PerSamplePath#BATCHED} with {@link PerSampleGradients}, the sums left in the gradients.
     * Convolutions' per-sample products go to the kernels' fused kernel when the kernels are on a device (reading
     * libtorch's tensors in place when the model is on that GPU), to the vector back end's direct kernel when the
     * model is on the host; else to libtorch.
     */
    @Override
    public void backwardPerSample(ai.lethe.data.Batch batch, ai.lethe.model.Loss loss, boolean absolute,
                                  ai.lethe.model.PerSamplePath path, ai.lethe.kernels.Kernels kernels) {
        if (path != ai.lethe.model.PerSamplePath.BATCHED) {
            super.backwardPerSample(batch, loss, absolute, path, kernels);
            return;
        }
        checkOpen();
        try (PointerScope scope = new PointerScope();
             ai.lethe.profile.Profiler.Span s = ai.lethe.profile.Profiler.span("per-sample batched")) {
            Tensor x = deviceInput(batch);
            Map<String, Tensor> sums;
            try {
                sums = PerSampleGradients.sum(net, x, loss == ai.lethe.model.Loss.CROSS_ENTROPY ? onDevice(labels(batch)) : null, loss,
                        absolute, convKernels(kernels));
            } catch (IllegalStateException e) {
                throw e;
            } catch (RuntimeException e) {
                ai.lethe.model.ModelException oom = outOfMemory(e, batch.size());
                throw oom != null ? oom : new ai.lethe.model.ModelException("per-sample pass failed for input "
                        + Arrays.toString(batch.shape()) + ": " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
            }
            Tensor[] values = new Tensor[net.parameters().size()];
            int i = 0;
            for (String name : net.parameters().keySet()) {
                values[i++] = sums.get(name); // null: this parameter took no part in the loss
            }
            setGradients(values);
        }
    }

    /**
     * One per core of the vector back end for the cnn's pooled route on the host ({@link PooledCnnGradients}): a
     * batch of 64 leaves cores idle in libtorch's calls, and batches side by side beat pieces of one batch, which
     * wait for each other and for the work between batches (0.18 s against 0.23 s per 2,000 images on two cores).
     */
    @Override
    public int perSampleWorkers(ai.lethe.kernels.Kernels kernels) {
        if (cudaDevice() < 0 && PerSampleGradients.takesPooledRoute(net, convKernels(kernels))
                && kernels.unwrap() instanceof ai.lethe.kernels.VectorKernels vector) {
            return Math.max(1, Math.min(64, vector.threads()));
        }
        return 1;
    }

    /**
     * Which back end forms convolutions' per-sample products, or null for libtorch: a device back end when its
     * tensors and the model's can meet (the model on its GPU, read in place; or the model on the host, copied up),
     * the vector back end for a model on the host (its direct kernel is faster than libtorch's grouped convolution
     * there), the scalar reference never (it is the readable one).
     */
    private ai.lethe.kernels.Kernels convKernels(ai.lethe.kernels.Kernels kernels) {
        if (kernels == null) {
            return null;
        }
        if (!kernels.hostMemory()) {
            boolean sameGpu = kernels.unwrap() instanceof ai.lethe.kernels.cuda.CudaKernels cuda && cuda.deviceIndex() == cudaDevice();
            return cudaDevice() < 0 || sameGpu ? kernels : null;
        }
        return cudaDevice() < 0 && kernels.name().equals("vector") ? kernels : null;
    }

    @Override
    public void setTraining(boolean training) {
        net.train(training);
    }

    @Override
    public Map<String, String> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    /** Adds or replaces metadata written with the model (training settings, mnemonic codes). */
    public void putMetadata(String key, String value) {
        metadata.put(key, value);
    }

    @Override
    protected void moveTensors(org.bytedeco.pytorch.Device target) {
        net.to(target);
    }

    /** A new network of the same architecture with this one's parameters, buffers, mode and placement. */
    @Override
    public ZooModel replicate() {
        checkOpen();
        if (!net.loraBranches().isEmpty()) {
            throw new UnsupportedOperationException(description() + " carries LoRA branches; replicate it before adding them");
        }
        ZooModel copy = new ZooModel(Zoo.createToFill(net.arch(), net.config()), source + " (replica)", metadata);
        try {
            if (cudaDevice() >= 0) {
                copy.toCuda(cudaDevice());
            }
            copy.copyStateFrom(this);
            copy.setTraining(net.training());
            return copy;
        } catch (RuntimeException e) {
            copy.close();
            throw e;
        }
    }

    /** Takes over every parameter and buffer of another model of the same architecture and shape. */
    public void copyStateFrom(ZooModel other) {
        if (!other.net.arch().equals(net.arch()) || !other.net.config().equals(net.config())) {
            throw new IllegalArgumentException("cannot copy a " + other.net.arch() + " into a " + net.arch() + " of another shape");
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            net.parameters().forEach((n, t) -> t.copy_(other.net.parameters().get(n)));
            net.buffers().forEach((n, t) -> t.copy_(other.net.buffers().get(n)));
        }
        parametersChanged();
    }

    /** LoRA merges and optimiser steps change parameters in place. */
    public void changedInPlace() {
        parametersChanged();
    }

    @Override
    public void requireSavable(Path path) {
        if (!ai.lethe.model.Weights.isSafetensors(path)) {
            throw new ai.lethe.InvalidSettingException("a zoo model is written as a safetensors state_dict: name the output "
                    + path.getFileName() + " with a .safetensors suffix");
        }
    }

    /** A safetensors state_dict with the architecture in its metadata (the only format a zoo model has). */
    @Override
    public void save(Path path) throws IOException {
        checkOpen();
        requireSavable(path);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("lethe.format", FORMAT);
        meta.put("lethe.arch", net.arch());
        meta.putAll(net.config().toMetadata());
        metadata.forEach((k, v) -> {
            if (!meta.containsKey(k) && !k.equals("format")) {
                meta.put(k, v);
            }
        });
        SafetensorsWriter w = new SafetensorsWriter().metadata(meta);
        try (PointerScope scope = new PointerScope()) {
            float[][] values = readParameters();
            int i = 0;
            for (Map.Entry<String, Tensor> p : net.parameters().entrySet()) {
                w.addFloats(p.getKey(), p.getValue().sizes().vec().get(), values[i++]);
            }
            for (Map.Entry<String, Tensor> b : net.buffers().entrySet()) {
                Tensor t = b.getValue();
                long[] shape = t.sizes().vec().get();
                if (b.getKey().endsWith("num_batches_tracked")) {
                    w.addLongs(b.getKey(), shape, new long[] {t.item_long()});
                } else {
                    float[] v = new float[(int) t.numel()];
                    onHost(t.contiguous()).data_ptr_float().get(v);
                    w.addFloats(b.getKey(), shape, v);
                }
            }
        }
        w.write(path);
    }
}
