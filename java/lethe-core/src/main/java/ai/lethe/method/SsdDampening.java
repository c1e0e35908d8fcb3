package ai.lethe.method;

import java.util.ArrayList;
import java.util.List;

import ai.lethe.importance.Importance;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.model.Model;
import ai.lethe.model.TensorBinding;

/**
 * The update step of SSD and LFSSD (docs/algorithms.md, section 3.1): select θ_j where I_f,j > α·I_D,j and scale
 * it by min(λ·I_D,j / I_f,j, 1), through the {@code ssd_dampen} kernel. Which importances go in (batch
 * Fisher for SSD, label-free for LFSSD) is the caller's choice.
 */
public final class SsdDampening {

    /**
     * What the update did.
     *
     * @param selected     number of dampened parameters
     * @param total        number of parameters
     * @param largestRatio the largest I_f/I_D over all parameters (+∞ where I_D = 0 < I_f)
     * @param notes        things the user should know (nothing selected, α above every ratio)
     */
    public record Dampened(long selected, long total, float largestRatio, List<String> notes) {
        public double selectedFraction() {
            return total == 0 ? 0 : (double) selected / total;
        }
    }

    private SsdDampening() {
    }

    public static void validate(float alpha, float lambda) {
        if (!(alpha > 0) || !Float.isFinite(alpha)) {
            throw ai.lethe.InvalidSettingException.about("{alpha} must be a positive number, got " + alpha);
        }
        if (!(lambda > 0) || !Float.isFinite(lambda)) {
            throw ai.lethe.InvalidSettingException.about("{lambda} must be a positive number, got " + lambda);
        }
    }

    /** Dampens the model's parameters in place, with importances given on the host (uploaded to the kernels). */
    public static Dampened apply(Model model, float[][] importanceFull, float[][] importanceForget, float alpha,
                                float lambda, Kernels kernels) {
        validate(alpha, lambda);
        try (ai.lethe.profile.Profiler.Span s = ai.lethe.profile.Profiler.span("update");
             TensorList iD = kernels.upload(importanceFull); TensorList iF = kernels.upload(importanceForget)) {
            return dampen(model, iD, iF, alpha, lambda, kernels);
        }
    }

    /**
     * Dampens the model's parameters in place; importances that are still in the kernels' memory (a GPU pass's sums)
     * are normalised there and never cross to the host.
     */
    public static Dampened apply(Model model, Importance full, Importance forget, float alpha, float lambda, Kernels kernels) {
        validate(alpha, lambda);
        try (ai.lethe.profile.Profiler.Span s = ai.lethe.profile.Profiler.span("update");
             TensorList iD = full.valuesOn(kernels); TensorList iF = forget.valuesOn(kernels)) {
            return dampen(model, iD, iF, alpha, lambda, kernels);
        }
    }

    /** Dampens with normalised importances already in the kernels' memory (a search over α makes them once). */
    public static Dampened apply(Model model, TensorList iD, TensorList iF, float alpha, float lambda, Kernels kernels) {
        validate(alpha, lambda);
        try (ai.lethe.profile.Profiler.Span s = ai.lethe.profile.Profiler.span("update")) {
            return dampen(model, iD, iF, alpha, lambda, kernels);
        }
    }

    private static Dampened dampen(Model model, TensorList iD, TensorList iF, float alpha, float lambda, Kernels kernels) {
        long total = model.parameterCount();
        long selected;
        float largest;
        // The parameters through the model's binding: libtorch's own GPU memory when the model is on the kernels'
        // device, a host copy otherwise.
        try (TensorBinding binding = model.bind(kernels)) {
            // The largest ratio is one float above the threshold that selects a single element. ε is the
            // smallest denormal: it leaves every normal I_D unchanged but keeps 0/0 from becoming a NaN.
            largest = Math.nextUp(kernels.ratioThresholdForFraction(iF, iD, Float.MIN_VALUE, 1.0 / Math.max(1, total)));
            selected = kernels.ssdDampen(binding.parameters(), iD, iF, alpha, lambda);
            if (selected > 0) {
                binding.pushParameters();
            }
        }
        List<String> notes = new ArrayList<>();
        if (selected == 0) {
            notes.add(alpha >= largest
                    ? String.format("nothing was selected: alpha = %s is at or above the largest ratio I_f/I_D = %.4g"
                            + " of this model, so no parameter can be selected; the model is unchanged", alpha, largest)
                    : "nothing was selected: no parameter has I_f > alpha * I_D; the model is unchanged");
        }
        return new Dampened(selected, total, largest, notes);
    }
}
