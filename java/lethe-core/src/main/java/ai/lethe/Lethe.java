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

    /**
     * What {@link #forget} returns: the report and the importances the method computed, for reuse or inspection
     * (null where it computed none: I_D for SSD and LFSSD, I_r for DeepClean, I_f for all three).
     */
    public record ForgetResult(ForgetReport report, Importance importanceFull, Importance importanceRetain,
                               Importance importanceForget) {

        /** The importance the forget set's is compared with: I_D, or I_r where the method computed that instead. */
        public Importance importanceReference() {
            return importanceFull != null ? importanceFull : importanceRetain;
        }
    }

    private final Model model;
    private final Path modelPath;
    private Kernels kernels;
    private Progress progress = Progress.NONE;

    /** Null until set: the estimator's choice (one worker, or the model's for per-sample passes). */
    private ai.lethe.importance.Workers workers;
    private DataOnDevice dataOnDevice = DataOnDevice.AUTO;
    private int[] cudaDevices = new int[0];

    private Lethe(Model model, Kernels kernels, Path modelPath) {
        this.model = model;
        this.kernels = kernels;
        this.modelPath = modelPath;
        place(model, kernels);
    }

    /**
     * Puts the model where the kernels are: on their GPU when the back end is CUDA and libtorch can use it (forward,
     * backward, importances and updates then all stay on the device); otherwise it stays on the host, with a note
     * when the kernels are on a GPU that libtorch's CPU build cannot reach.
     */
    private static void place(Model model, Kernels kernels) {
        if (!(model instanceof ai.lethe.model.LibtorchModel)) {
            return;
        }
        boolean kernelsOnGpu = kernels.unwrap() instanceof CudaKernels;
        boolean libtorchGpu = ai.lethe.model.Libtorch.cudaAvailable();
        if (kernelsOnGpu && libtorchGpu) {
            int device = ((CudaKernels) kernels.unwrap()).deviceIndex();
            model.toCuda(device);
            LOG.info("model placed on cuda:{}", device);
        }
        String note = placementNote(ai.lethe.model.Libtorch.build(), libtorchGpu, kernelsOnGpu);
        if (note != null && NOTED.add(note)) {
            System.err.println("note: " + note);
        }
    }

    private static final java.util.Set<String> NOTED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * The one line a user should read about where the work runs, or null when it is where they would expect:
     * kernels on a GPU that libtorch's CPU build cannot reach, or libtorch's CUDA build without a usable GPU.
     */
    static String placementNote(String libtorchBuild, boolean libtorchSeesGpu, boolean kernelsOnGpu) {
        if (kernelsOnGpu && !libtorchSeesGpu) {
            return "the kernels run on the GPU but the model on the host (libtorch's " + libtorchBuild + " build): gradients cross"
                    + " host memory every batch; build with -Dlethe.torch=gpu on a machine with the CUDA 13 libraries";
        }
        if (!kernelsOnGpu && "cuda".equals(libtorchBuild) && !libtorchSeesGpu) {
            return "libtorch's CUDA build found no usable GPU (no NVIDIA driver?): running on the CPU";
        }
        return null;
    }

    /**
     * Importance passes run on {@code count} workers (threads with their own model replica; on GPUs their own stream,
     * dealt round-robin over the devices this instance was opened on). 1 is the sequential pass. Unset, passes run
     * one worker, except per-sample passes over a model that asks for more ({@link Model#perSampleWorkers}).
     */
    public Lethe workers(int count) {
        this.workers = new ai.lethe.importance.Workers(count, cudaDevices.length > 0 ? cudaDevices
                : kernels.unwrap() instanceof CudaKernels c && !model.placement().equals("cpu") ? new int[] {c.deviceIndex()} : new int[0]);
        return this;
    }

    /**
     * Whether forget runs decode their data once into the model's device memory (default {@link DataOnDevice#AUTO}: on
     * a GPU when it takes at most 2 GiB) instead of streaming it from disk on every pass.
     */
    public Lethe dataOnDevice(DataOnDevice mode) {
        this.dataOnDevice = mode == null ? DataOnDevice.AUTO : mode;
        return this;
    }

    public DataOnDevice dataOnDevice() {
        return dataOnDevice;
    }

    /** The workers set by {@link #workers(int)}, or null (each pass's default). */
    public ai.lethe.importance.Workers workers() {
        return workers;
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
            Lethe lethe = new Lethe(Models.load(modelPath, arch), k, modelPath);
            if (k.unwrap() instanceof CudaKernels && !lethe.model.placement().equals("cpu")) {
                lethe.cudaDevices = Backends.cudaDevices(device);
                lethe.workers(Math.max(1, lethe.cudaDevices.length));
            }
            return lethe;
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

    /**
     * Prepares the data, measures the model, runs the method (rolled back if it fails or diverges), saves the
     * importances when asked, measures again and reports.
     */
    public ForgetResult forget(ForgetRequest request) throws IOException {
        request.validate();
        LOG.info("forget: {} on {}, data {}, forget set {}, settings {}", request.method().id(), kernels.name(), request.data(),
                request.forgetSet(), request.describeSettings());
        long start = System.nanoTime();
        PreparedData prepared = PreparedData.prepare(model, request.data(), request.trainLimit(), request.forgetSet());
        prepared.forget().requireRetained();
        try (PreparedData.Placed placed = prepared.placeOn(model, dataOnDevice, progress)) {
            return forget(request, placed.data(), start);
        }
    }

    private ForgetResult forget(ForgetRequest request, PreparedData p, long start) throws IOException {
        String inputFingerprint = model.fingerprint();
        Evaluation evaluation = new Evaluation(request.evalBatchSize(), progress, p);
        Metrics before = request.evaluate() ? evaluation.measure(model) : null;
        ForgetRun.Result run = ForgetRun.run(model, modelPath, kernels, progress, p, request, workers);
        Outcome outcome = run.outcome();
        if (request.saveImportances() != null) {
            outcome.saveImportances(request.saveImportances());
        }
        Metrics after = request.evaluate() ? evaluation.measure(model) : null;
        ForgetReport report = ForgetReports.of(request, kernels, model, inputFingerprint, p, run, before, after,
                request.evaluate() ? evaluation.seconds() : null);
        LOG.info("forget: changed {} of {} parameters; unlearning {} s, evaluation {} s", outcome.changed(), model.parameterCount(),
                String.format("%.3f", run.seconds()), String.format("%.3f", evaluation.seconds()));
        progress.note(String.format("forget finished in %.2f s (%.2f s with evaluation)", run.seconds(), seconds(start)));
        outcome.importancesToHost();
        return new ForgetResult(report, outcome.importanceFull(), outcome.importanceRetain(), outcome.importanceForget());
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
        Float alpha = result.report().alpha() != null ? Float.valueOf(result.report().alpha().floatValue()) : null;
        return new ProfileReport(result.report(), plain.description(), recording,
                Profiling.copyGbps(plain, model.parameterSizes()),
                Profiling.tensors(model.parameters(), result.importanceReference(), result.importanceForget(), before,
                        after, alpha, plain),
                Profiling.ratioEdges(),
                Profiling.ratioHistogram(result.importanceReference(), result.importanceForget()));
    }

    // ---- importance and evaluation on their own --------------------------------------------------

    /**
     * One importance pass, as {@code lethe fisher} runs it: over the full training set (file order, or
     * retain-then-forget when a forget set is given), the forget set, or the retain set.
     */
    public Importance importance(String data, int trainLimit, String subset, ForgetSet forgetSet, Estimator estimator,
                                 int batchSize) throws IOException {
        if (batchSize < 1) {
            throw InvalidSettingException.about("{batch_size} must be at least 1, got " + batchSize);
        }
        DataSource source = DataSource.open(data, trainLimit);
        int[] labels = source.train().labels();
        int classes = model.numClasses(source.train().sampleShape());
        PreparedData.requireLabelsInRange(labels, classes, "training");
        ImportanceEstimator est = new ImportanceEstimator(estimator, kernels, progress).workers(workers);
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
        String broken = ForgetRun.nonFiniteParameters(model, kernels);
        if (broken != null) {
            throw new ModelException("the model holds " + broken + ": its outputs mean nothing, so it is not evaluated");
        }
        PreparedData p = PreparedData.prepare(model, data, trainLimit, forgetSet);
        return new Evaluation(batchSize, progress, p).measure(model);
    }

    /**
     * Saves the model atomically in its own format (the model decides: TorchScript, or its parameters alone as
     * safetensors when the path ends in .safetensors; a zoo model always as a safetensors state_dict).
     */
    public void save(Path path) throws IOException {
        model.save(path);
    }

    /** Refuses, before any work, an output path that {@link #save} could not write this model to. */
    public void requireSavable(Path path) {
        model.requireSavable(path);
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

    private Provenance provenance(Estimator estimator, int batchSize, String data, String subset, String order,
                                  String forgetSet) {
        return new Provenance(model.fingerprint(), estimator, batchSize, data, subset, order, forgetSet);
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
