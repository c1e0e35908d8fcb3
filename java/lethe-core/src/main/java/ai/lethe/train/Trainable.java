package ai.lethe.train;

import ai.lethe.model.Model;

/** Tensors an optimiser updates: a model's parameters, or extra ones such as LoRA branches. */
public interface Trainable {

    long[] sizes();

    void read(float[][] dst);

    void write(float[][] src);

    /** The gradients of the last backward pass (0 where none flowed). */
    void gradients(float[][] dst);

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
        };
    }
}
