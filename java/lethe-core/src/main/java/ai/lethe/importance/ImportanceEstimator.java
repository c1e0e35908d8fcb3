package ai.lethe.importance;

import java.util.Iterator;

import ai.lethe.data.Batch;
import ai.lethe.kernels.HostTensors;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.kernels.TensorStats;
import ai.lethe.model.Model;
import ai.lethe.model.ParameterInfo;
import ai.lethe.model.PerSamplePath;
import ai.lethe.profile.Profiler;
import ai.lethe.report.Progress;

/**
 * Runs one importance pass: libtorch does forward and backward per batch (or per sample), the kernel
 * layer accumulates g² or |g| into one buffer per parameter, and every gradient is checked for NaN/Inf
 * before it is added. The result is a partial sum with its count, see {@link Importance}.
 */
public final class ImportanceEstimator {

    private final Estimator estimator;
    private final Kernels kernels;
    private final Progress progress;
    private PerSamplePath perSamplePath;

    public ImportanceEstimator(Estimator estimator, Kernels kernels, Progress progress) {
        this.estimator = estimator;
        this.kernels = kernels;
        this.progress = progress == null ? Progress.NONE : progress;
    }

    public Estimator estimator() {
        return estimator;
    }

    /**
     * How the per-sample estimator gets each sample's gradient; null (the default) takes the model's fastest
     * ({@link Model#perSamplePath()}: batched for zoo models, threaded for TorchScript). {@link PerSamplePath#LOOP}
     * is the one-sample-at-a-time reference. Ignored by the batch estimators.
     */
    public ImportanceEstimator perSamplePath(PerSamplePath path) {
        this.perSamplePath = path;
        return this;
    }

    /** The path a per-sample pass over this model takes. */
    public PerSamplePath perSamplePathFor(Model model) {
        PerSamplePath best = model.perSamplePath();
        if (perSamplePath == null) {
            return best;
        }
        if (perSamplePath.ordinal() < best.ordinal()) {
            throw new IllegalArgumentException("the " + perSamplePath + " per-sample path needs a zoo model; " + model.description()
                    + " supports " + best + " and loop");
        }
        return perSamplePath;
    }

    /**
     * Accumulates over every batch of {@code batches}.
     *
     * @param expectedBatches for progress only (0 if unknown)
     * @param label           what the pass is, for progress ("importance over D")
     */
    public Importance estimate(Model model, Iterator<Batch> batches, int expectedBatches, String label,
                               Provenance provenance) {
        long[] sizes = model.parameterSizes();
        float[][] grads = new float[sizes.length][];
        for (int i = 0; i < sizes.length; i++) {
            grads[i] = new float[Math.toIntExact(sizes[i])];
        }
        // CPU back ends read the gradient arrays in place; CUDA gets them uploaded into a staging list.
        boolean host = kernels.hostMemory();
        try (TensorList acc = kernels.allocate(sizes);
             TensorList g = host ? HostTensors.wrap(grads) : kernels.allocate(sizes)) {
            Pass pass = new Pass(model, grads, acc, g);
            PerSamplePath path = estimator.perSample() ? perSamplePathFor(model) : null;
            // Which per-sample path runs shows in the progress line of every command (fisher, forget, ...).
            progress.start(path == null ? label : label + ", per-sample " + path, expectedBatches, "batches");
            while (batches.hasNext()) {
                Batch batch = batches.next();
                pass.batchNo++;
                if (path == PerSamplePath.LOOP) {
                    for (int i = 0; i < batch.size(); i++) {
                        pass.add(batch.sample(i));
                    }
                } else if (path != null) {
                    pass.addPerSampleSums(batch, path);
                } else {
                    pass.add(batch);
                }
                progress.advance(1);
            }
            progress.finish();
            java.util.Map<String, String> details = new java.util.TreeMap<>();
            details.put(Importance.SAMPLES, Long.toString(pass.samples));
            if (path != null) {
                details.put(Importance.COMPUTATION, "per-sample " + path + ": " + path.description());
            }
            return new Importance(model.parameters(), kernels.download(acc), pass.count, provenance).withDetails(details);
        }
    }

    /** State of one pass: the gradient buffers and the running count. */
    private final class Pass {
        final Model model;
        final float[][] grads;
        final TensorList acc;
        final TensorList g;
        long count;
        long samples;
        int batchNo;

        Pass(Model model, float[][] grads, TensorList acc, TensorList g) {
            this.model = model;
            this.grads = grads;
            this.acc = acc;
            this.g = g;
        }

        /** Backward on one batch (or one sample), check its gradient, add it in. */
        void add(Batch batch) {
            model.backward(batch, estimator.loss());
            try (Profiler.Span s = Profiler.span("accumulate")) {
                model.gradients(grads);
                if (!kernels.hostMemory()) {
                    kernels.upload(grads, g);
                }
                requireFinite(batch);
                if (estimator.absolute()) {
                    kernels.accumulateAbs(acc, g, 1f);
                } else {
                    kernels.accumulateSquare(acc, g, 1f);
                }
            }
            count++;
            samples += batch.size();
        }

        /** The per-sample sums of a whole batch from the model, checked, added in; counts its samples. */
        void addPerSampleSums(Batch batch, PerSamplePath path) {
            model.sumPerSample(batch, estimator.loss(), estimator.absolute(), path, kernels, grads);
            try (Profiler.Span s = Profiler.span("accumulate")) {
                if (!kernels.hostMemory()) {
                    kernels.upload(grads, g);
                }
                requireFinite(batch);
                kernels.scaleAdd(acc, g, 1f);
            }
            count += batch.size();
            samples += batch.size();
        }

        private void requireFinite(Batch batch) {
            TensorStats[] stats = kernels.stats(g);
            for (int t = 0; t < stats.length; t++) {
                if (stats[t].nonFinite() > 0) {
                    ParameterInfo p = model.parameters().get(t);
                    throw new NonFiniteGradientException("gradient of " + p.name() + " holds " + stats[t].nonFinite()
                            + " NaN/Inf values in batch " + batchNo + " (samples " + batch.indices()[0] + ".."
                            + batch.indices()[batch.size() - 1] + "); the model or the data produce non-finite values");
                }
            }
        }
    }
}
