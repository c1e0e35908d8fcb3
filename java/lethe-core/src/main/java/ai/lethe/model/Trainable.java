package ai.lethe.model;

import ai.lethe.kernels.Kernels;

/** Tensors an optimiser updates: a model's parameters, or extra ones such as LoRA branches. */
public interface Trainable {

    long[] sizes();

    void read(float[][] dst);

    void write(float[][] src);

    /** The gradients of the last backward pass (0 where none flowed). */
    void gradients(float[][] dst);

    /** The tensors as lists of {@code kernels}: host copies here; a model binds itself (views of its GPU memory). */
    default TensorBinding bind(Kernels kernels) {
        return new HostCopyBinding(this, kernels);
    }

    /** A model's parameters. */
    static Trainable of(Model model) {
        return new Trainable() {
            @Override
            public long[] sizes() {
                return model.parameterSizes();
            }

            @Override
            public void read(float[][] dst) {
                model.readParameters(dst);
            }

            @Override
            public void write(float[][] src) {
                model.writeParameters(src);
            }

            @Override
            public void gradients(float[][] dst) {
                model.gradients(dst);
            }

            @Override
            public TensorBinding bind(Kernels kernels) {
                return model.bind(kernels);
            }
        };
    }
}
