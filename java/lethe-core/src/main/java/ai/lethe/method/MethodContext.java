package ai.lethe.method;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntPredicate;

import ai.lethe.ForgetRequest;
import ai.lethe.data.BatchStream;
import ai.lethe.data.DataSource;
import ai.lethe.data.ForgetSplit;
import ai.lethe.importance.Estimator;
import ai.lethe.importance.Importance;
import ai.lethe.importance.ImportanceEstimator;
import ai.lethe.importance.Provenance;
import ai.lethe.io.LetheFormatException;
import ai.lethe.kernels.Kernels;
import ai.lethe.model.Model;
import ai.lethe.report.Progress;

/**
 * Everything a method needs besides its settings: the model and where it came from, the kernels, the split data,
 * the run-level request (batching, estimator, seed, a stored importance to reuse).
 */
public final class MethodContext {

    private final Model model;
    private final Path modelPath;
    private final Kernels kernels;
    private final Progress progress;
    private final DataSource data;
    private final ForgetSplit split;
    private final int[] testLabels;
    private final ForgetRequest request;
    private final String fingerprint;

    public MethodContext(Model model, Path modelPath, Kernels kernels, Progress progress, DataSource data, ForgetSplit split,
                         int[] testLabels, ForgetRequest request) {
        this.model = model;
        this.modelPath = modelPath;
        this.kernels = kernels;
        this.progress = progress == null ? Progress.NONE : progress;
        this.data = data;
        this.split = split;
        this.testLabels = testLabels;
        this.request = request;
        this.fingerprint = model.fingerprint();
    }

    public Model model() {
        return model;
    }

    /** Where the model was loaded from (null when it was built in memory). */
    public Path modelPath() {
        return modelPath;
    }

    private ai.lethe.importance.Workers workers;

    /** The workers the importance passes of this run use (null, the default: each pass's own choice). */
    public MethodContext workers(ai.lethe.importance.Workers w) {
        this.workers = w;
        return this;
    }

    public Kernels kernels() {
        return kernels;
    }

    public Progress progress() {
        return progress;
    }

    public DataSource data() {
        return data;
    }

    public ForgetSplit split() {
        return split;
    }

    public int[] testLabels() {
        return testLabels;
    }

    public ForgetRequest request() {
        return request;
    }

    /** One importance pass over a stream, with provenance (subset, order) for its file. */
    Importance importance(Estimator estimator, BatchStream stream, String label, String subset, String order) {
        try (stream) {
            Provenance p = new Provenance(fingerprint, estimator, request.batchSize(), split.dataIdentity(), subset, order,
                    split.forgetSet().description());
            // Resident: the method's update reads the sums where the pass left them (on a GPU, no round trip).
            return new ImportanceEstimator(estimator, kernels, progress).workers(workers).resident(true)
                    .estimate(model, stream, stream.expectedBatches(), label + " (" + stream.expectedSamples() + " samples)", p);
        }
    }

    /** The importance over Df, timed into the outcome. */
    Importance forgetImportance(Estimator estimator, Outcome out) {
        return forgetImportance(estimator, out, null);
    }

    /** The importance over the Df samples {@code include} accepts (all when null), timed into the outcome. */
    Importance forgetImportance(Estimator estimator, Outcome out, IntPredicate include) {
        long t = System.nanoTime();
        BatchStream s = include == null ? split.forget(request.batchSize())
                : BatchStream.passes(split.train(), split.labels(), request.batchSize(),
                        List.of(i -> split.forgetSet().isForget(i) && include.test(i)));
        Importance imp = importance(estimator, s, "importance over Df", "forget", "file");
        out.importanceForgetSeconds += seconds(t);
        out.importanceForget = imp;
        return imp;
    }

    /** The importance over Dr, timed into the outcome's first importance phase. */
    Importance retainImportance(Estimator estimator, Outcome out) {
        long t = System.nanoTime();
        Importance imp = importance(estimator, split.retain(request.batchSize()), "importance over Dr", "retain", "file");
        out.importanceFullSeconds += seconds(t);
        out.importanceRetain = imp;
        out.importanceFullSource = "computed (Dr)";
        return imp;
    }

    /**
     * The importance over D: the stored one when the request names it (refused if it does not belong to this
     * model and these settings), else computed in the SSD reference's order (Dr then Df).
     */
    Importance fullImportance(Estimator estimator, Outcome out) throws IOException {
        long t = System.nanoTime();
        Importance full;
        if (request.importanceFull() != null) {
            Path file = request.importanceFull();
            full = Importance.load(file);
            try {
                full.requireUsableAs(model, estimator, request.batchSize(), split.dataIdentity(), file.toString());
            } catch (IllegalArgumentException e) {
                throw new LetheFormatException(e.getMessage());
            }
            if (estimator.dependsOnBatching() && !"retain-then-forget".equals(full.provenance().order())) {
                // With the batch estimator I_D is a mean of squared batch gradients, so how D is cut into batches
                // matters: pure forget-set batches (retain-then-forget) and mixed ones can select very different
                // parameters. Said plainly, with the way out.
                out.notes.add("the stored I_D was batched in " + full.provenance().order() + " order, a fresh run batches D"
                        + " retain-then-forget; with the " + estimator.id() + " estimator this can change what is selected"
                        + " a lot (compare with a fresh run, or store a per-sample importance, which does not depend on"
                        + " batching)");
            } else if (estimator.dependsOnBatching() && !full.provenance().forgetSet().equals(split.forgetSet().description())) {
                out.notes.add("the stored I_D was batched for forgetting " + full.provenance().forgetSet() + ", not "
                        + split.forgetSet().description() + "; with the " + estimator.id() + " estimator this can change what"
                        + " is selected a lot (compare with a fresh run, or store a per-sample importance)");
            }
            out.importanceFullSource = "loaded from " + file;
        } else {
            full = importance(estimator, split.fullRetainThenForget(request.batchSize()), "importance over D", "full",
                    "retain-then-forget");
            out.importanceFullSource = "computed";
        }
        out.importanceFullSeconds += seconds(t);
        out.importanceFull = full;
        return full;
    }

    static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
