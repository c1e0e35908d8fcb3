package ai.lethe.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import ai.lethe.data.Batch;

/**
 * A trained classifier as the unlearning engine sees it: named fp32 parameters, logits for a batch,
 * gradients of a loss, and a way to save the changed model in its own format. In eval mode (BatchNorm uses its
 * running statistics, dropout is off) unless a training method switches it ({@link #setTraining}).
 * Implementations: {@link TorchScriptModel} and the zoo's architectures defined in Java
 * ({@link ai.lethe.model.zoo.ZooModel}).
 *
 * <p>Not thread-safe: one thread drives a model (libtorch's grad mode is per thread).
 */
public interface Model extends AutoCloseable {

    /** For example "torchscript /path/model.pt". */
    String description();

    /** Every named parameter, in named_parameters() order. */
    List<ParameterInfo> parameters();

    default long parameterCount() {
        long n = 0;
        for (ParameterInfo p : parameters()) {
            n += p.numel();
        }
        return n;
    }

    default long[] parameterSizes() {
        return parameters().stream().mapToLong(ParameterInfo::numel).toArray();
    }

    /**
     * Checks that the model accepts samples of this shape and returns logits [batch, classes]; returns the
     * number of classes. Throws {@link ModelException} with a one-line reason otherwise.
     */
    int numClasses(int[] sampleShape);

    /** Logits of a batch, row-major [size × classes], computed without gradients. */
    float[] logits(Batch batch);

    /**
     * Forward, loss and backward for a batch: afterwards {@link #gradients} holds d loss / d θ of this batch
     * alone (gradients are reset first). Returns the loss value.
     */
    double backward(Batch batch, Loss loss);

    /**
     * {@link #backward} without reading the loss back: on a GPU the host then never waits for the device inside a
     * pass, so it prepares the next batch while the device computes this one. What importance passes call.
     */
    default void backwardOnly(Batch batch, Loss loss) {
        backward(batch, loss);
    }

    /**
     * The fastest way this model offers to compute per-sample gradient sums ({@link #backwardPerSample}); {@link
     * PerSamplePath#LOOP} means none beyond {@link #backward} one sample at a time.
     */
    default PerSamplePath perSamplePath() {
        return PerSamplePath.LOOP;
    }

    /**
     * How many workers (replicas taking batches in turn) the per-sample estimator's {@link PerSamplePath#BATCHED}
     * path should run on with these kernels when the caller leaves the count to the model: more than one where
     * this model's route keeps one core busy per batch and gains from batches side by side (the zoo cnn on the
     * host), 1 otherwise.
     */
    default int perSampleWorkers(ai.lethe.kernels.Kernels kernels) {
        return 1;
    }

    /**
     * Leaves in each parameter's gradient (where {@link #backward} leaves d loss / d θ, read the same way: {@link
     * #gradients} or a {@link TensorBinding}) the sum over the batch's samples of each sample's squared gradient of
     * its own loss, or of its absolute value when {@code absolute}. The sums stay where the model is, so on a GPU
     * nothing goes to the host. {@code kernels} may serve as a compute back end (fused kernels); the result is the
     * same either way. Supports the paths from {@link #perSamplePath()} down to {@link PerSamplePath#THREADED};
     * {@link PerSamplePath#LOOP} is the caller's loop over {@link #backward}.
     */
    default void backwardPerSample(Batch batch, Loss loss, boolean absolute, PerSamplePath path, ai.lethe.kernels.Kernels kernels) {
        throw new UnsupportedOperationException(description() + " computes per-sample gradients one sample at a time only");
    }

    // ---- placement and the kernels' view of the model ------------------------------------------

    /** Where the model's tensors live: {@code cpu} or {@code cuda:N}. */
    default String placement() {
        return "cpu";
    }

    /**
     * Moves the parameters, buffers (and LoRA branches) to CUDA device {@code device}, once; later forward and
     * backward passes run there and take their inputs there. A {@link ModelException} with one line when the model
     * or this libtorch build cannot.
     */
    default void toCuda(int device) {
        throw new ModelException(description() + " cannot be placed on a GPU");
    }

    /**
     * The parameters and gradients as tensor lists of {@code kernels}: views of the model's own memory where the
     * back end can use it directly (a model on the back end's GPU), host copies otherwise. See {@link TensorBinding}.
     */
    default TensorBinding bind(ai.lethe.kernels.Kernels kernels) {
        return new HostCopyBinding(this, kernels);
    }

    /**
     * An independent copy (parameters, buffers, mode and placement) for a worker thread that runs passes beside
     * this model; the caller closes it. {@link UnsupportedOperationException} for models that cannot be copied.
     */
    default Model replicate() {
        throw new UnsupportedOperationException(description() + " cannot be replicated for parallel workers");
    }

    /** Copies the gradients of the last {@link #backward} into arrays shaped like the parameters (0 where none flowed). */
    void gradients(float[][] dst);

    /** Copies the current parameter values into arrays shaped like the parameters. */
    void readParameters(float[][] dst);

    /** Overwrites the parameters with these values. */
    void writeParameters(float[][] src);

    default float[][] readParameters() {
        float[][] out = new float[parameters().size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = new float[Math.toIntExact(parameters().get(i).numel())];
        }
        readParameters(out);
        return out;
    }

    /**
     * Train mode (BatchNorm uses batch statistics and updates its running ones, dropout is on) or eval mode,
     * the default. Importance passes and evaluation always run in eval mode; only training switches.
     */
    void setTraining(boolean training);

    /** Metadata the model file carries (architecture, training settings, mnemonic codes); empty when none. */
    default java.util.Map<String, String> metadata() {
        return java.util.Map.of();
    }

    /** SHA-256 over parameter names, shapes and values: identifies which model an importance file belongs to. */
    String fingerprint();

    /**
     * Saves the model in its own format, atomically (temporary file, then rename); the format may depend on
     * the name (a TorchScript model writes only its parameters to a *.safetensors path).
     */
    void save(Path path) throws IOException;

    /** Refuses, before any work, a path this model cannot be saved to (an {@link ai.lethe.InvalidSettingException}). */
    default void requireSavable(Path path) {
    }

    @Override
    void close();
}
