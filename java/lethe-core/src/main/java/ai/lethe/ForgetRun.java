package ai.lethe;

import java.io.IOException;
import java.nio.file.Path;

import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.kernels.TensorStats;
import ai.lethe.method.MethodContext;
import ai.lethe.method.Outcome;
import ai.lethe.method.UnlearningMethod;
import ai.lethe.model.Model;
import ai.lethe.model.ModelException;
import ai.lethe.model.TensorBinding;
import ai.lethe.report.Progress;

/**
 * One run of a method on a model: a snapshot of the parameters first, the method, then the divergence check;
 * a method that fails or leaves a NaN/Inf parameter behind is rolled back to the snapshot, so the model is
 * changed only by a run that completed.
 */
final class ForgetRun {

    /** What the method did and how long it took (the unlearning itself, without evaluation). */
    record Result(Outcome outcome, double seconds) {
    }

    private ForgetRun() {
    }

    static Result run(Model model, Path modelPath, Kernels kernels, Progress progress, PreparedData p, ForgetRequest request,
                      ai.lethe.importance.Workers workers) throws IOException {
        long start = System.nanoTime();
        try (TensorList snapshot = snapshot(model, kernels)) {
            Outcome outcome;
            try {
                outcome = UnlearningMethod.run(request.method(), new MethodContext(model, modelPath, kernels, progress, p.data(),
                        p.split(), p.testLabels(), request).workers(workers), request.settings());
            } catch (IOException | RuntimeException e) {
                restore(model, kernels, snapshot); // a failed method leaves the model as it was
                throw e;
            }
            String broken = nonFiniteParameters(model, kernels);
            if (broken != null) {
                restore(model, kernels, snapshot);
                throw new ModelException(request.method().id() + " diverged: the result holds " + broken
                        + "; the model was left as it was (try a smaller --lr or step)");
            }
            return new Result(outcome, (System.nanoTime() - start) / 1e9);
        }
    }

    /** A copy of the parameters in the kernels' memory: a device-to-device copy when the model is on the kernels' GPU. */
    static TensorList snapshot(Model model, Kernels kernels) {
        try (TensorBinding binding = model.bind(kernels)) {
            TensorList copy = kernels.allocate(model.parameterSizes());
            kernels.copy(binding.parameters(), copy);
            return copy;
        }
    }

    /** Puts a {@link #snapshot} back into the model. */
    static void restore(Model model, Kernels kernels, TensorList snapshot) {
        try (TensorBinding binding = model.bind(kernels)) {
            kernels.copy(snapshot, binding.parameters());
            binding.pushParameters();
        }
    }

    /**
     * "N NaN/Inf parameter values (first in NAME)", or null when every parameter value is finite: counted by the
     * stats kernel, the same check that rejects non-finite gradients.
     */
    static String nonFiniteParameters(Model model, Kernels kernels) {
        long bad = 0;
        String first = null;
        try (TensorBinding binding = model.bind(kernels)) {
            TensorStats[] stats = kernels.stats(binding.parameters());
            for (int t = 0; t < stats.length; t++) {
                if (stats[t].nonFinite() > 0 && first == null) {
                    first = model.parameters().get(t).name();
                }
                bad += stats[t].nonFinite();
            }
        }
        return bad == 0 ? null : bad + " NaN/Inf parameter values (first in " + first + ")";
    }
}
