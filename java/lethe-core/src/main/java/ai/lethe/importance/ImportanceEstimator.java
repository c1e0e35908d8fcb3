package ai.lethe.importance;

import java.util.Iterator;

import ai.lethe.data.Batch;
import ai.lethe.kernels.HostTensors;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.kernels.TensorStats;
import ai.lethe.model.Model;
import ai.lethe.model.ParameterInfo;
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

    public ImportanceEstimator(Estimator estimator, Kernels kernels, Progress progress) {
        this.estimator = estimator;
        this.kernels = kernels;
        this.progress = progress == null ? Progress.NONE : progress;
    }

    public Estimator estimator() {
        return estimator;
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
            progress.start(label, expectedBatches, "batches");
            while (batches.hasNext()) {
                Batch batch = batches.next();
                pass.batchNo++;
                if (estimator.perSample()) {
                    for (int i = 0; i < batch.size(); i++) {
                        pass.add(batch.sample(i));
                    }
                } else {
                    pass.add(batch);
                }
                progress.advance(1);
            }
            progress.finish();
            return new Importance(model.parameters(), kernels.download(acc), pass.count, provenance)
                    .withDetails(java.util.Map.of(Importance.SAMPLES, Long.toString(pass.samples)));
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
