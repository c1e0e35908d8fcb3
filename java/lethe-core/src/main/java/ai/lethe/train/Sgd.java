package ai.lethe.train;

import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.model.Model;
import ai.lethe.model.Trainable;
import ai.lethe.model.TensorBinding;
import ai.lethe.profile.Profiler;

/**
 * Stochastic gradient descent through the {@code sgd_step} kernel (PyTorch's SGD: momentum, weight decay, no
 * dampening), optionally restricted to a 0/1 mask, over a model's parameters or any other {@link Trainable}.
 * Parameters and gradients come through the target's {@link TensorBinding}: a model on the kernels' GPU is stepped in
 * its own device memory (nothing crosses to the host), anything else through host copies. Velocity, mask and the
 * combined gradient live in the kernels' memory between steps.
 */
public final class Sgd implements AutoCloseable {

    private final Trainable target;
    private final Kernels kernels;
    private final TensorBinding binding;
    private final TensorList velocity;
    private final TensorList mask;
    private final float momentum;
    private final float weightDecay;
    private TensorList combined;
    private TensorList squares;
    private long steps;

    /**
     * @param mask 0/1 per parameter element (null = every parameter trains); masked-out elements never move
     */
    public Sgd(Model model, Kernels kernels, float momentum, float weightDecay, float[][] mask) {
        this(Trainable.of(model), kernels, momentum, weightDecay, mask);
    }

    public Sgd(Trainable target, Kernels kernels, float momentum, float weightDecay, float[][] mask) {
        this.target = target;
        this.kernels = kernels;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.binding = target.bind(kernels);
        this.velocity = kernels.allocate(target.sizes());
        this.mask = mask == null ? null : kernels.upload(mask);
    }

    /** One step along the gradient the target holds now (after a backward pass). */
    public void step(float lr) {
        // The gradient's read-back is part of the step, so a profile's "update" phase holds all of it.
        try (Profiler.Span s = Profiler.span("update")) {
            update(binding.gradients(), lr);
        }
    }

    /**
     * Adds {@code weight} × the target's current gradient to a combined gradient, for losses built from several
     * batches (NegGrad: +1 on a retain batch, −γ on a forget batch). {@link #stepCombined} applies and clears it.
     */
    public void addToCombined(float weight) {
        try (Profiler.Span s = Profiler.span("update")) {
            TensorList gradient = binding.gradients();
            if (combined == null) {
                combined = kernels.allocate(target.sizes());
            }
            kernels.scaleAdd(combined, gradient, weight);
        }
    }

    /**
     * Scales the combined gradient down to global L2 norm {@code maxNorm} when it is longer (PyTorch's
     * {@code clip_grad_norm_}); returns the norm before clipping.
     */
    public double clipCombined(float maxNorm) {
        if (combined == null) {
            throw new IllegalStateException("no gradient was added with addToCombined");
        }
        try (Profiler.Span s = Profiler.span("update")) {
            if (squares == null) {
                squares = kernels.allocate(target.sizes());
            }
            kernels.fill(squares, 0f);
            kernels.accumulateSquare(squares, combined, 1f);
            double norm = Math.sqrt(ai.lethe.kernels.TensorStats.total(kernels.stats(squares)).sum());
            if (norm > maxNorm) {
                kernels.scale(combined, (float) (maxNorm / norm));
            }
            return norm;
        }
    }

    /** One step along the combined gradient, which then starts again from zero. */
    public void stepCombined(float lr) {
        if (combined == null) {
            throw new IllegalStateException("no gradient was added with addToCombined");
        }
        try (Profiler.Span s = Profiler.span("update")) {
            update(combined, lr);
            kernels.fill(combined, 0f);
        }
    }

    private void update(TensorList gradient, float lr) {
        kernels.sgdStep(binding.parameters(), velocity, gradient, mask, lr, momentum, weightDecay);
        binding.pushParameters();
        steps++;
    }

    public long steps() {
        return steps;
    }

    @Override
    public void close() {
        velocity.close();
        if (combined != null) {
            combined.close();
        }
        if (squares != null) {
            squares.close();
        }
        if (mask != null) {
            mask.close();
        }
        binding.close();
    }
}
