package ai.lethe.model;

import ai.lethe.kernels.HostTensors;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;

/**
 * The binding that copies: the model's parameters and gradients are read into Java arrays (the CPU back ends take
 * them in place, a device back end gets them uploaded) and written back on {@link #pushParameters}. The buffers
 * are allocated once per binding, so a pass of many batches allocates nothing per batch.
 */
public final class HostCopyBinding implements TensorBinding {

    private final Trainable source;
    private final Kernels kernels;
    private final boolean host;
    private final float[][] parameterArrays;
    private final float[][] gradientArrays;
    private TensorList parameters;
    private TensorList gradients;

    public HostCopyBinding(Model model, Kernels kernels) {
        this(Trainable.of(model), kernels);
    }

    /** Host copies of any tensors an optimiser updates (a model's parameters, LoRA branches). */
    public HostCopyBinding(Trainable source, Kernels kernels) {
        this.source = source;
        this.kernels = kernels;
        this.host = kernels.hostMemory();
        long[] sizes = source.sizes();
        parameterArrays = new float[sizes.length][];
        gradientArrays = new float[sizes.length][];
        for (int i = 0; i < sizes.length; i++) {
            parameterArrays[i] = new float[Math.toIntExact(sizes[i])];
            gradientArrays[i] = new float[Math.toIntExact(sizes[i])];
        }
    }

    @Override
    public boolean isView() {
        return false;
    }

    @Override
    public TensorList parameters() {
        source.read(parameterArrays);
        parameters = staged(parameterArrays, parameters);
        return parameters;
    }

    @Override
    public TensorList gradients() {
        source.gradients(gradientArrays);
        gradients = staged(gradientArrays, gradients);
        return gradients;
    }

    /** The arrays as the back end's list: wrapped in place on the host, uploaded (into {@code list} once it exists) on a device. */
    private TensorList staged(float[][] arrays, TensorList list) {
        if (host) {
            return list != null ? list : HostTensors.wrap(arrays);
        }
        if (list == null) {
            return kernels.upload(arrays);
        }
        kernels.upload(arrays, list);
        return list;
    }

    @Override
    public void pushParameters() {
        if (parameters == null) {
            throw new IllegalStateException("pushParameters before parameters()");
        }
        if (!host) {
            kernels.download(parameters, parameterArrays);
        }
        source.write(parameterArrays);
    }

    @Override
    public void close() {
        if (parameters != null) {
            parameters.close();
        }
        if (gradients != null) {
            gradients.close();
        }
    }
}
