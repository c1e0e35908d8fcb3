package ai.lethe.importance;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import ai.lethe.data.Batch;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.kernels.TensorStats;
import ai.lethe.kernels.cuda.CudaKernels;
import ai.lethe.kernels.cuda.DeviceTensors;
import ai.lethe.model.Model;
import ai.lethe.model.ParameterInfo;
import ai.lethe.model.PerSamplePath;
import ai.lethe.model.TensorBinding;
import ai.lethe.profile.Profiler;
import ai.lethe.report.Progress;

/**
 * Runs one importance pass: libtorch does forward and backward per batch (or per sample), the kernel layer
 * accumulates g² or |g| into one buffer per parameter through the model's {@link TensorBinding} (views of the
 * model's own GPU memory, or host copies), and the accumulate kernels count NaN/Inf gradient values as they go.
 * The result is a partial sum with its count, see {@link Importance}. With several {@link Workers} the batches are
 * dealt round-robin to model replicas on their own threads (and CUDA streams) and the partial sums added at the end.
 */
public final class ImportanceEstimator {

    /**
     * How often a pass asks a device back end for its non-finite count (a synchronisation): every this many batches
     * and at the end. Host back ends count for free and are asked after every batch.
     */
    static final int DEVICE_CHECK_EVERY = 32;

    private final Estimator estimator;
    private final Kernels kernels;
    private final Progress progress;
    private PerSamplePath perSamplePath;
    /** Null: the model's choice for the per-sample batched path ({@link Model#perSampleWorkers}), one otherwise. */
    private Workers workers;
    private boolean resident;

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

    /**
     * Parallel workers for the batch estimators and the per-sample estimator's batched path (zoo models); the
     * threaded and loop paths (TorchScript) run on one worker and parallelise inside a batch instead. Null (the
     * default) leaves the count to the model on the per-sample batched path ({@link Model#perSampleWorkers}: one
     * per core for the zoo cnn on the host) and runs one worker elsewhere.
     */
    public ImportanceEstimator workers(Workers w) {
        this.workers = w;
        return this;
    }

    /** The workers a pass over {@code model} on {@code path} (null: a batch estimator) runs on. */
    public Workers workersFor(Model model, PerSamplePath path) {
        if (workers != null) {
            return workers;
        }
        int n = path == PerSamplePath.BATCHED ? model.perSampleWorkers(kernels) : 1;
        return n > 1 ? new Workers(n, new int[0]) : Workers.ONE;
    }

    /**
     * Keep the result's sums in the kernels' memory ({@link Importance#resident}): for a caller that hands them to
     * an update kernel next (on a GPU no download and upload again); off by default, the sums come back to the host.
     */
    public ImportanceEstimator resident(boolean keep) {
        this.resident = keep;
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
        PerSamplePath path = estimator.perSample() ? perSamplePathFor(model) : null;
        Workers workers = workersFor(model, path);
        java.util.Map<String, String> details = new java.util.TreeMap<>();
        TensorList sums;
        long count;
        long samples;
        if ((path == null || path == PerSamplePath.BATCHED) && workers.count() > 1) {
            progress.start(label + ", " + workers.count() + " workers", expectedBatches, "batches");
            Parallel run = new Parallel(model, batches, path, workers);
            sums = run.sums;
            count = run.count;
            samples = run.samples;
            details.put(Importance.WORKERS, Integer.toString(workers.count()));
            if (path != null) {
                details.put(Importance.COMPUTATION, "per-sample " + path + ": " + path.description());
            }
        } else {
            // Which per-sample path runs shows in the progress line of every command (fisher, forget, ...).
            progress.start(path == null ? label : label + ", per-sample " + path, expectedBatches, "batches");
            try (CascadeSum sum = new CascadeSum(kernels, model.parameterSizes()); TensorBinding binding = model.bind(kernels)) {
                Pass pass = new Pass(model, binding, kernels, sum, progress);
                pass.run(batches, 0, 1, path);
                sums = sum.detachTotal();
                count = pass.count;
                samples = pass.samples;
            }
            if (path != null) {
                details.put(Importance.COMPUTATION, "per-sample " + path + ": " + path.description());
            }
        }
        progress.finish();
        details.put(Importance.SAMPLES, Long.toString(samples));
        Importance result = Importance.resident(model.parameters(), kernels, sums, count, provenance, details);
        if (!resident) {
            result.toHost();
        }
        return result;
    }

    /** One worker's pass: its model (replica), binding, kernels and accumulator, and its running counts. */
    private final class Pass {
        final Model model;
        final TensorBinding binding;
        final Kernels k;
        final CascadeSum sum;
        final Progress progress;
        long count;
        long samples;
        /** Batch numbers (1-based, over the whole pass) since the last non-finite check. */
        long uncheckedFrom = -1;
        long lastBatch;
        Batch lastBatchSeen;

        Pass(Model model, TensorBinding binding, Kernels k, CascadeSum sum, Progress progress) {
            this.model = model;
            this.binding = binding;
            this.k = k;
            this.sum = sum;
            this.progress = progress;
        }

        /** Batches {@code first}, {@code first + stride}, ... (0-based) of the pass come from {@code batches}. */
        void run(Iterator<Batch> batches, int first, int stride, PerSamplePath path) {
            long batchNo = first;
            while (batches.hasNext()) {
                Batch batch = batches.next();
                batchNo++;
                if (path == PerSamplePath.LOOP) {
                    for (int i = 0; i < batch.size(); i++) {
                        add(batch.sample(i), batchNo);
                    }
                } else if (path != null) {
                    addPerSampleSums(batch, path, batchNo);
                } else {
                    add(batch, batchNo);
                }
                progress.advance(1);
                batchNo += stride - 1;
            }
            checkFinite();
        }

        /** Backward on one batch (or one sample), add its gradient in; the kernel counts non-finite values. */
        void add(Batch batch, long batchNo) {
            model.backwardOnly(batch, estimator.loss());
            try (Profiler.Span s = Profiler.span("accumulate")) {
                TensorList g = binding.gradients();
                if (estimator.absolute()) {
                    k.accumulateAbs(sum.current(), g, 1f);
                } else {
                    k.accumulateSquare(sum.current(), g, 1f);
                }
                sum.added();
            }
            count++;
            samples += batch.size();
            noteBatch(batch, batchNo);
        }

        /**
         * The per-sample sums of a whole batch, left by the model in its gradients (on its device), checked and
         * added in; counts its samples.
         */
        void addPerSampleSums(Batch batch, PerSamplePath path, long batchNo) {
            model.backwardPerSample(batch, estimator.loss(), estimator.absolute(), path, k);
            try (Profiler.Span s = Profiler.span("accumulate")) {
                TensorList sums = binding.gradients();
                TensorStats[] stats = k.stats(sums);
                for (int t = 0; t < stats.length; t++) {
                    if (stats[t].nonFinite() > 0) {
                        throw nonFinite(model.parameters().get(t).name(), stats[t].nonFinite(), batchNo, batchNo, batch);
                    }
                }
                k.scaleAdd(sum.current(), sums, 1f);
                sum.added();
            }
            count += batch.size();
            samples += batch.size();
        }

        private void noteBatch(Batch batch, long batchNo) {
            if (uncheckedFrom < 0) {
                uncheckedFrom = batchNo;
            }
            lastBatch = batchNo;
            lastBatchSeen = batch;
            if (k.hostMemory() || ++sinceCheck >= DEVICE_CHECK_EVERY) {
                checkFinite();
            }
        }

        private int sinceCheck;

        /** Asks the kernels how many NaN/Inf gradient values they met since the last check. */
        void checkFinite() {
            sinceCheck = 0;
            if (uncheckedFrom < 0) {
                return;
            }
            long bad = k.takeGradientNonFinite();
            long from = uncheckedFrom;
            uncheckedFrom = -1;
            if (bad == 0) {
                return;
            }
            String where = null;
            if (from == lastBatch) { // the gradient of the bad batch is still there: name its parameter
                TensorStats[] stats = k.stats(binding.gradients());
                for (int t = 0; t < stats.length && where == null; t++) {
                    if (stats[t].nonFinite() > 0) {
                        where = model.parameters().get(t).name();
                    }
                }
            }
            throw nonFinite(where, bad, from, lastBatch, lastBatchSeen);
        }
    }

    private static NonFiniteGradientException nonFinite(String parameter, long bad, long fromBatch, long toBatch, Batch last) {
        String what = parameter == null ? "the gradients hold " : "gradient of " + parameter + " holds ";
        String where = fromBatch == toBatch
                ? " in batch " + toBatch + " (samples " + last.indices()[0] + ".." + last.indices()[last.size() - 1] + ")"
                : " in batches " + fromBatch + ".." + toBatch;
        return new NonFiniteGradientException(what + bad + " NaN/Inf values" + where
                + "; the model or the data produce non-finite values");
    }

    /**
     * The pass on several workers. A dealer thread hands batch i to worker i mod n through a small queue (so every
     * worker sees the same batches in every run: the result is deterministic for a given worker count); each worker
     * runs a {@link Pass} on its own replica, binding and, on a GPU, its own stream and kernel context; the partial
     * sums are added in worker order on the caller's kernels.
     */
    private final class Parallel {
        private static final Batch END = new Batch(new float[0], new int[0], new int[0], 0, new int[] {1});
        TensorList sums;
        long count;
        long samples;

        private final Workers workers;

        Parallel(Model model, Iterator<Batch> batches, PerSamplePath path, Workers workers) {
            this.workers = workers;
            int n = workers.count();
            List<BlockingQueue<Batch>> queues = new ArrayList<>();
            for (int w = 0; w < n; w++) {
                queues.add(new ArrayBlockingQueue<>(2));
            }
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Model> replicas = new ArrayList<>();
            replicas.add(model);
            Progress shared = new SynchronizedProgress(progress);
            List<WorkerResult> results = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            try {
                for (int w = 1; w < n; w++) {
                    replicas.add(model.replicate());
                }
                for (int w = 0; w < n; w++) {
                    WorkerResult r = new WorkerResult(workers);
                    results.add(r);
                    int index = w;
                    Thread t = new Thread(() -> {
                        try {
                            // host kernels called from this worker use its share of the cores
                            ai.lethe.kernels.HostThreads.runAsOneOf(n, () -> r.run(replicas.get(index), index, queues.get(index), shared, path));
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    }, "lethe-importance-worker-" + w);
                    t.setDaemon(true);
                    threads.add(t);
                    t.start();
                }
                deal(batches, queues, failure);
                for (Thread t : threads) {
                    t.join();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure.compareAndSet(null, e);
            } finally {
                for (int w = 1; w < replicas.size(); w++) {
                    replicas.get(w).close();
                }
            }
            Throwable f = failure.get();
            if (f != null) {
                for (WorkerResult r : results) {
                    r.release();
                }
                if (f instanceof RuntimeException re) {
                    throw re;
                }
                if (f instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException("importance worker failed: " + f, f);
            }
            merge(results);
        }

        /** Batch i to worker i mod n; END to all once the batches run out or a worker failed. */
        private void deal(Iterator<Batch> batches, List<BlockingQueue<Batch>> queues, AtomicReference<Throwable> failure)
                throws InterruptedException {
            int n = queues.size();
            long i = 0;
            try {
                while (failure.get() == null && batches.hasNext()) {
                    Batch b = batches.next();
                    BlockingQueue<Batch> q = queues.get((int) (i++ % n));
                    while (failure.get() == null && !q.offer(b, 100, TimeUnit.MILLISECONDS)) {
                        // the worker is busy: wait, unless another one failed
                    }
                }
            } catch (RuntimeException e) {
                failure.compareAndSet(null, e); // the data source failed (a corrupt file, say)
            }
            for (BlockingQueue<Batch> q : queues) {
                if (failure.get() != null) {
                    q.clear(); // nothing more to compute: let the workers reach END at once
                }
                q.put(END);
            }
        }

        /** Worker 0's sum plus the others', in worker order, on the caller's kernels. */
        private void merge(List<WorkerResult> results) {
            TensorList total = kernels.allocate(results.get(0).sizes);
            try {
                for (WorkerResult r : results) {
                    r.addInto(total, kernels);
                    count += r.count;
                    samples += r.samples;
                }
                sums = total;
            } catch (RuntimeException | Error e) {
                total.close();
                throw e;
            } finally {
                for (WorkerResult r : results) {
                    r.release();
                }
            }
        }
    }

    /** What one worker leaves behind: its partial sum (in its kernels' memory) and counts. */
    private final class WorkerResult {
        long[] sizes;
        Kernels own;
        CascadeSum sum;
        TensorList acc;
        long count;
        long samples;
        private final Workers workers;

        WorkerResult(Workers workers) {
            this.workers = workers;
        }

        void run(Model replica, int index, BlockingQueue<Batch> queue, Progress shared, PerSamplePath path) {
            int device = workers.deviceOf(index);
            sizes = replica.parameterSizes();
            if (device >= 0) {
                // Its own CUDA stream (libtorch's current one for this thread) and kernel context on that stream.
                replica.toCuda(device);
                ai.lethe.model.CudaStreams.useNewStream(device);
                own = new CudaKernels(device);
            }
            Kernels k = own != null ? own : kernels;
            sum = new CascadeSum(k, sizes);
            try (TensorBinding binding = replica.bind(k)) {
                Pass pass = new Pass(replica, binding, k, sum, shared);
                pass.run(new ai.lethe.data.QueuedBatches(queue, Parallel.END), index, workers.count(), path);
                acc = sum.total();
                count = pass.count;
                samples = pass.samples;
            }
        }

        /** total += the partial sum, on {@code target}: directly, as a view (same GPU) or through the host (another GPU). */
        void addInto(TensorList total, Kernels target) {
            Kernels mine = own != null ? own : kernels;
            if (mine == target) {
                target.scaleAdd(total, acc, 1f);
                return;
            }
            if (mine.unwrap() instanceof CudaKernels src && target.unwrap() instanceof CudaKernels dst
                    && src.deviceIndex() == dst.deviceIndex()) {
                DeviceTensors d = (DeviceTensors) acc;
                long[] pointers = new long[d.count()];
                for (int i = 0; i < pointers.length; i++) {
                    pointers[i] = d.pointer(i);
                }
                try (TensorList view = dst.wrapBorrowed(pointers, d.sizes())) {
                    target.scaleAdd(total, view, 1f);
                }
                return;
            }
            try (TensorList copy = target.upload(mine.download(acc))) {
                target.scaleAdd(total, copy, 1f);
            }
        }

        void release() {
            if (sum != null) {
                sum.close();
                sum = null;
                acc = null;
            }
            if (own != null) {
                own.close();
                own = null;
            }
        }
    }

    /** Progress from several threads. */
    private static final class SynchronizedProgress implements Progress {
        private final Progress inner;

        SynchronizedProgress(Progress inner) {
            this.inner = inner;
        }

        @Override
        public synchronized void start(String task, long total, String unit) {
            inner.start(task, total, unit);
        }

        @Override
        public synchronized void advance(long done) {
            inner.advance(done);
        }

        @Override
        public synchronized void finish() {
        }

        @Override
        public synchronized void note(String message) {
            inner.note(message);
        }
    }
}
