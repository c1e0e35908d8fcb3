package ai.lethe;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import ai.lethe.data.BatchStream;
import ai.lethe.data.DataSource;
import ai.lethe.data.ForgetSet;
import ai.lethe.data.ForgetSplit;
import ai.lethe.eval.Evaluator;
import ai.lethe.eval.Metrics;
import ai.lethe.importance.Estimator;
import ai.lethe.importance.Importance;
import ai.lethe.importance.ImportanceEstimator;
import ai.lethe.importance.Provenance;
import ai.lethe.io.LetheFormatException;
import ai.lethe.kernels.Backends;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.kernels.TensorStats;
import ai.lethe.kernels.cuda.CudaKernels;
import ai.lethe.method.Method;
import ai.lethe.method.MethodContext;
import ai.lethe.method.Outcome;
import ai.lethe.method.UnlearningMethod;
import ai.lethe.model.Model;
import ai.lethe.model.ModelException;
import ai.lethe.model.Models;
import ai.lethe.profile.ProfileReport;
import ai.lethe.profile.Profiler;
import ai.lethe.profile.Profiling;
import ai.lethe.profile.ProfilingKernels;
import ai.lethe.report.ForgetReport;
import ai.lethe.report.Progress;

/**
 * Lethe as a library: load a model, make it forget, evaluate, save.
 *
 * <pre>{@code
 * try (Lethe lethe = Lethe.load(Path.of("model.pt"))) {
 *     ForgetResult r = lethe.forget(ForgetRequest.of("fashion-mnist", ForgetSet.classes(1)).method(Method.LFSSD).alpha(2));
 *     System.out.println(r.report().after().forgetTestAcc());
 *     lethe.save(Path.of("forgotten.pt"));
 * }
 * }</pre>
 *
 * The model is changed in place only when a forget run has completed; a failure leaves it as it was.
 */
public final class Lethe implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Lethe.class);

    /** The outcome of {@link #forget}: the report and the two importances (for reuse or inspection). */
    public record ForgetResult(ForgetReport report, Importance importanceFull, Importance importanceForget) {
    }

    private final Model model;
    private final Path modelPath;
    private Kernels kernels;
    private Progress progress = Progress.NONE;

    private Lethe(Model model, Kernels kernels, Path modelPath) {
        this.model = model;
        this.kernels = kernels;
        this.modelPath = modelPath;
    }

    /** Loads a model (TorchScript .pt) and opens the best kernel back end (CUDA if present, else the Vector API). */
    public static Lethe load(Path modelPath) throws IOException {
        return load(modelPath, "auto");
    }

    /** Loads a model and opens the named kernel back end ({@link Backends#open}). */
    public static Lethe load(Path modelPath, String device) throws IOException {
        return load(modelPath, null, device);
    }

    /**
     * Loads a model (a zoo state_dict needs {@code arch} unless its metadata names it; null otherwise) and
     * opens the named kernel back end.
     */
    public static Lethe load(Path modelPath, String arch, String device) throws IOException {
        Kernels k = Backends.open(device);
        try {
            return new Lethe(Models.load(modelPath, arch), k, modelPath);
        } catch (IOException | RuntimeException e) {
            k.close();
            throw e;
        }
    }

    /** Wraps a model that is already open; Lethe closes it. */
    public static Lethe of(Model model, Kernels kernels) {
        return new Lethe(model, kernels, null);
    }

    /** Where progress of long passes goes (default: nowhere). */
    public Lethe progress(Progress p) {
        this.progress = p == null ? Progress.NONE : p;
        return this;
    }

    public Model model() {
        return model;
    }

    public Kernels kernels() {
        return kernels;
    }

    // ---- forget ---------------------------------------------------------------------------------

    public ForgetResult forget(ForgetRequest request) throws IOException {
        request.validate();
        LOG.info("forget: {} on {}, data {}, forget set {}, settings {}", request.method().id(), kernels.name(), request.data(),
                request.forgetSet(), request.settings());
        long start = System.nanoTime();
        Prepared p = prepare(request.data(), request.trainLimit(), request.forgetSet());
        p.forget.requireRetained();
        String inputFingerprint = model.fingerprint();
        Evaluator evaluator = new Evaluator(request.evalBatchSize(), progress);
        Metrics before = null;
        double evalSeconds = 0;
        if (request.evaluate()) {
            long t = System.nanoTime();
            before = evaluator.evaluate(model, p.split, p.data.test(), p.testLabels);
            evalSeconds += seconds(t);
        }
        long unlearnStart = System.nanoTime();
        float[][] original = model.readParameters();
        Outcome outcome;
        try {
            outcome = UnlearningMethod.of(request.method()).forget(new MethodContext(model, modelPath, kernels, progress, p.data,
                    p.split, p.testLabels, request));
        } catch (IOException | RuntimeException e) {
            model.writeParameters(original); // a failed method leaves the model as it was
            throw e;
        }
        String broken = nonFiniteParameters();
        if (broken != null) {
            model.writeParameters(original);
            throw new ModelException(request.method().id() + " diverged: the result holds " + broken
                    + "; the model was left as it was (try a smaller --lr or step)");
        }
        double totalSeconds = seconds(unlearnStart);
        double updateSeconds = Math.max(0, totalSeconds - outcome.importanceFullSeconds() - outcome.importanceForgetSeconds());

        if (request.saveImportances() != null && (outcome.importanceFull() != null || outcome.importanceForget() != null)) {
            Files.createDirectories(request.saveImportances());
            if (outcome.importanceFull() != null) {
                // named by what it covers: D for SSD (importance_full), Dr for DeepClean (importance_retain)
                outcome.importanceFull().save(request.saveImportances().resolve(
                        "importance_" + outcome.importanceFull().provenance().subset() + ".safetensors"));
            }
            if (outcome.importanceForget() != null) {
                outcome.importanceForget().save(request.saveImportances().resolve("importance_forget.safetensors"));
            }
        }

        Metrics after = null;
        if (request.evaluate()) {
            long t = System.nanoTime();
            after = evaluator.evaluate(model, p.split, p.data.test(), p.testLabels);
            evalSeconds += seconds(t);
        }
        boolean ssd = request.method() == Method.SSD || request.method() == Method.LFSSD;
        long params = model.parameterCount();
        Object chosenAlpha = outcome.details().get("alpha_search") instanceof java.util.Map<?, ?> m ? m.get("chosen_alpha") : null;
        ForgetReport report = new ForgetReport(request.method().id(), kernels.name(), kernels.description(),
                model.description(), inputFingerprint, model.fingerprint(), p.data.description(), p.forget.description(),
                p.forget.forgetCount(), p.forget.retainCount(),
                ssd ? request.estimator().id() : null, ssd ? request.batchSize() : null,
                ssd ? (chosenAlpha != null ? ((Number) chosenAlpha).doubleValue() : (double) request.alpha()) : null,
                ssd ? (double) request.lambda() : null, request.settings(), params, outcome.changed(),
                params == 0 ? 0 : (double) outcome.changed() / params, outcome.largestRatio(), outcome.importanceFullSource(),
                outcome.notes(), outcome.details(), ForgetReport.MetricsReport.of(before), ForgetReport.MetricsReport.of(after),
                new ForgetReport.Seconds(outcome.importanceFullSeconds(), outcome.importanceForgetSeconds(), updateSeconds,
                        totalSeconds, request.evaluate() ? evalSeconds : null));
        LOG.info("forget: changed {} of {} parameters; unlearning {} s, evaluation {} s", outcome.changed(), params,
                String.format("%.3f", totalSeconds), String.format("%.3f", evalSeconds));
        progress.note(String.format("forget finished in %.2f s (%.2f s with evaluation)", totalSeconds, seconds(start)));
        return new ForgetResult(report, outcome.importanceFull(), outcome.importanceForget());
    }

    // ---- profiling ------------------------------------------------------------------------------

    /**
     * Runs {@link #forget} under the profiler: every phase span of every thread, every kernel call (through a
     * recording decorator installed for this run only; on CUDA each phase is also an NVTX range), then a copy
     * measured on the same back end and per-tensor importance statistics.
     */
    public ProfileReport profile(ForgetRequest request) throws IOException {
        float[][] before = model.readParameters();
        Kernels plain = kernels;
        Profiler.RangeListener ranges =
                plain instanceof CudaKernels cuda ? cuda.nvtxRanges() : null;
        Profiler.start(ranges);
        ForgetResult result;
        Profiler.Recording recording;
        try {
            kernels = new ProfilingKernels(plain);
            result = forget(request);
        } finally {
            kernels = plain;
            recording = Profiler.stop();
        }
        float[][] after = model.readParameters();
        boolean ssd = request.method() == Method.SSD || request.method() == Method.LFSSD;
        Float alpha = ssd ? Float.valueOf(result.report().alpha().floatValue()) : null;
        return new ProfileReport(result.report(), plain.description(), recording,
                Profiling.copyGbps(plain, model.parameterSizes()),
                Profiling.tensors(model.parameters(), result.importanceFull(), result.importanceForget(), before,
                        after, alpha, plain),
                Profiling.ratioEdges(),
                Profiling.ratioHistogram(result.importanceFull(), result.importanceForget()));
    }

    // ---- importance and evaluation on their own --------------------------------------------------

    /**
     * One importance pass, as {@code lethe fisher} runs it: over the full training set (file order, or
     * retain-then-forget when a forget set is given), the forget set, or the retain set.
     */
    public Importance importance(String data, int trainLimit, String subset, ForgetSet forgetSet, Estimator estimator,
                                 int batchSize) throws IOException {
        if (batchSize < 1) {
            throw new ai.lethe.InvalidSettingException("--batch-size must be at least 1, got " + batchSize);
        }
        DataSource source = DataSource.open(data, trainLimit);
        int[] labels = source.train().labels();
        int classes = model.numClasses(source.train().sampleShape());
        requireLabelsInRange(labels, classes, "training");
        ImportanceEstimator est = new ImportanceEstimator(estimator, kernels, progress);
        String description = ForgetSplit.identity(source.train(), labels);
        switch (subset) {
            case "full": {
                if (forgetSet == null) {
                    try (BatchStream s = BatchStream.all(source.train(), labels, batchSize)) {
                        return est.estimate(model, s, s.expectedBatches(), "importance over D",
                                provenance(estimator, batchSize, description, "full", "file", ""));
                    }
                }
                ForgetSet.Resolved r = forgetSet.resolve(labels, classes);
                try (BatchStream s = new ForgetSplit(source.train(), labels, r).fullRetainThenForget(batchSize)) {
                    return est.estimate(model, s, s.expectedBatches(), "importance over D",
                            provenance(estimator, batchSize, description, "full", "retain-then-forget", r.description()));
                }
            }
            case "forget":
            case "retain": {
                if (forgetSet == null) {
                    throw new ai.lethe.InvalidSettingException("--subset " + subset + " needs a forget set (--forget-class, --forget-indices or --forget-random)");
                }
                ForgetSet.Resolved r = forgetSet.resolve(labels, classes);
                if (subset.equals("retain")) {
                    r.requireRetained();
                }
                ForgetSplit split = new ForgetSplit(source.train(), labels, r);
                try (BatchStream s = subset.equals("forget") ? split.forget(batchSize) : split.retain(batchSize)) {
                    return est.estimate(model, s, s.expectedBatches(), "importance over " + subset + " set",
                            provenance(estimator, batchSize, description, subset, "file", r.description()));
                }
            }
            default:
                throw new ai.lethe.InvalidSettingException("unknown --subset '" + subset + "' (expected full, forget or retain)");
        }
    }

    /** Accuracies and MIA of the model as it is now. */
    public Metrics evaluate(String data, int trainLimit, ForgetSet forgetSet, int batchSize) throws IOException {
        String broken = nonFiniteParameters();
        if (broken != null) {
            throw new ModelException("the model holds " + broken + ": its outputs mean nothing, so it is not evaluated");
        }
        Prepared p = prepare(data, trainLimit, forgetSet);
        return new Evaluator(batchSize, progress).evaluate(model, p.split, p.data.test(), p.testLabels);
    }

    /**
     * Saves the model atomically in its own format: TorchScript for a TorchScript model (or only its parameters as
     * safetensors when the path ends in .safetensors), a safetensors state_dict with architecture metadata for a
     * zoo model (which needs a .safetensors path).
     */
    public void save(Path path) throws IOException {
        boolean safetensors = ai.lethe.model.Weights.isSafetensors(path);
        requireSavable(path);
        if (model instanceof ai.lethe.model.zoo.ZooModel) {
            model.save(path);
        } else if (safetensors) {
            ai.lethe.model.Weights.save(model, path);
        } else {
            model.save(path);
        }
    }

    /** Refuses, before any work, an output path that {@link #save} could not write this model to. */
    public void requireSavable(Path path) {
        if (model instanceof ai.lethe.model.zoo.ZooModel && !ai.lethe.model.Weights.isSafetensors(path)) {
            throw new ai.lethe.InvalidSettingException("a zoo model is written as a safetensors state_dict: name the output "
                    + path.getFileName() + " with a .safetensors suffix");
        }
    }

    /** Replaces the model's parameters with those of a safetensors file (a PyTorch state_dict, for example). */
    public ai.lethe.model.Weights.LoadSummary loadWeights(Path path) throws IOException {
        return ai.lethe.model.Weights.load(model, path);
    }

    @Override
    public void close() {
        try {
            model.close();
        } finally {
            kernels.close();
        }
    }

    // ---- helpers --------------------------------------------------------------------------------

    /**
     * "N NaN/Inf parameter values (first in NAME)", or null when every parameter value is finite: counted by the
     * stats kernel, the same check that rejects non-finite gradients.
     */
    private String nonFiniteParameters() {
        long bad = 0;
        String first = null;
        try (TensorList values = kernels.upload(model.readParameters())) {
            TensorStats[] stats = kernels.stats(values);
            for (int t = 0; t < stats.length; t++) {
                if (stats[t].nonFinite() > 0 && first == null) {
                    first = model.parameters().get(t).name();
                }
                bad += stats[t].nonFinite();
            }
        }
        return bad == 0 ? null : bad + " NaN/Inf parameter values (first in " + first + ")";
    }

    /** Data opened and checked against the model: shapes accepted, labels in range, forget set resolved. */
    private record Prepared(DataSource data, int[] testLabels, ForgetSet.Resolved forget, ForgetSplit split) {
    }

    private Prepared prepare(String data, int trainLimit, ForgetSet forgetSet) throws IOException {
        DataSource source = DataSource.open(data, trainLimit);
        int[] trainLabels = source.train().labels();
        int[] testLabels = source.test().labels();
        int classes = model.numClasses(source.train().sampleShape());
        requireLabelsInRange(trainLabels, classes, "training");
        requireLabelsInRange(testLabels, classes, "test");
        ForgetSet.Resolved resolved = forgetSet.resolve(trainLabels, classes);
        return new Prepared(source, testLabels, resolved, new ForgetSplit(source.train(), trainLabels, resolved));
    }

    private static void requireLabelsInRange(int[] labels, int classes, String split) throws LetheFormatException {
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new LetheFormatException("label " + labels[i] + " of " + split + " sample " + i
                        + " is out of range: the model has " + classes + " classes (0.." + (classes - 1) + ")");
            }
        }
    }

    private Provenance provenance(Estimator estimator, int batchSize, String data, String subset, String order,
                                  String forgetSet) {
        return new Provenance(model.fingerprint(), estimator, batchSize, data, subset, order, forgetSet);
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
