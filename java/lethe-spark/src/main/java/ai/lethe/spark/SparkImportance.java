package ai.lethe.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.lethe.InvalidSettingException;
import ai.lethe.data.Batch;
import ai.lethe.data.BatchStream;
import ai.lethe.data.Dataset;
import ai.lethe.data.ForgetSplit;
import ai.lethe.importance.Estimator;
import ai.lethe.importance.Importance;
import ai.lethe.importance.ImportanceEstimator;
import ai.lethe.importance.Provenance;
import ai.lethe.io.LetheFormatException;
import ai.lethe.kernels.Backends;
import ai.lethe.kernels.Kernels;
import ai.lethe.model.Libtorch;
import ai.lethe.model.Model;
import scala.Tuple2;

/**
 * The importance pass over the whole training set D as a Spark job: the model goes to the executors once (a
 * broadcast of its file's bytes), each task streams its piece of D through Lethe's estimator and kernels on the
 * device Spark gave it, and the partial sums are reduced by a tree aggregation, or by tensor chunks for models
 * too big to ship whole. The result is the {@link Importance} that {@code lethe fisher} computes in one process,
 * with the same provenance (so {@code lethe forget --retain-importance} accepts its file) and, in its details,
 * how D was cut, where it ran and how many samples it covers.
 *
 * <pre>{@code
 * Importance imp = SparkImportance.of(Estimator.PER_SAMPLE, 64).partitions(8)
 *         .compute(sc, lethe.model(), TrainingData.of("idx:hdfs://nn/fashion-mnist", 0));
 * imp.save(Path.of("full.safetensors"));
 * }</pre>
 *
 * Batch-dependent estimators (batch, label-free) are cut at multiples of the batch size, so every task sees the
 * batches a single process sees and the result equals the single-process one up to the order of float sums.
 */
public final class SparkImportance {

    private static final Logger LOG = LoggerFactory.getLogger(SparkImportance.class);

    /** How partial sums are combined. */
    public enum Reduction {
        /** whole partial sums, combined in a tree (treeReduce) and the last level on the driver */
        TREE,
        /** the flattened parameters cut into chunks, each chunk reduced by its own task (reduceByKey) */
        CHUNKED,
        /**
         * TREE while the driver receives at most {@link #AUTO_TREE_LIMIT_BYTES} (the tree's last level hands it about
         * sqrt(tasks) whole partial sums), CHUNKED beyond
         */
        AUTO
    }

    /** What AUTO lets the tree's last level send the driver (spark.driver.maxResultSize is 1 GiB by default). */
    public static final long AUTO_TREE_LIMIT_BYTES = 256L << 20;

    private final Estimator estimator;
    private final int batchSize;
    private int partitions;
    private Reduction reduction = Reduction.AUTO;
    private int chunkFloats = 1 << 20;
    private String device = "auto";

    private SparkImportance(Estimator estimator, int batchSize) {
        if (batchSize < 1) {
            throw new InvalidSettingException("--batch-size must be at least 1, got " + batchSize);
        }
        this.estimator = estimator;
        this.batchSize = batchSize;
    }

    public static SparkImportance of(Estimator estimator, int batchSize) {
        return new SparkImportance(estimator, batchSize);
    }

    /** Number of tasks D is cut into (default 0: twice the context's default parallelism). */
    public SparkImportance partitions(int n) {
        if (n < 0) {
            throw new InvalidSettingException("--spark-partitions must be positive, got " + n);
        }
        this.partitions = n;
        return this;
    }

    public SparkImportance reduction(Reduction r) {
        this.reduction = r;
        return this;
    }

    /** Floats per chunk of the chunked reduction (default 1 Mi = 4 MiB; chunks are reduced in parallel). */
    public SparkImportance chunkFloats(int n) {
        if (n < 1) {
            throw new InvalidSettingException("chunk size must be at least 1 float, got " + n);
        }
        this.chunkFloats = n;
        return this;
    }

    /**
     * The kernel back end of tasks Spark gave no GPU (default auto); a task with a GPU address from Spark's
     * resource scheduling runs on cuda:ADDRESS.
     */
    public SparkImportance device(String name) {
        this.device = Backends.validate(name);
        return this;
    }

    // ---- D as index ranges of files ------------------------------------------------------------------

    /** The importance over every sample of {@code data}, in file order (lethe fisher --subset full). */
    public Importance compute(JavaSparkContext sc, Model model, TrainingData data) throws IOException {
        Dataset train = data.openTrain();
        int[] labels = train.labels();
        requireLabelsInRange(labels, model.numClasses(train.sampleShape()));
        int parts = partitions > 0 ? partitions : 2 * sc.defaultParallelism();
        long[] bounds = SampleRanges.cut(labels.length, parts, estimator.dependsOnBatching() ? batchSize : 1);
        List<long[]> ranges = new ArrayList<>();
        for (int i = 0; i + 1 < bounds.length; i++) {
            ranges.add(new long[] {bounds[i], bounds[i + 1]});
        }
        ModelPayload payload = ModelPayload.of(model);
        LOG.info("spark importance: {} samples in {} ranges, model {} bytes, {} reduction", labels.length, ranges.size(),
                payload.size(), reductionFor(model, ranges.size()));
        Broadcast<ModelPayload> bModel = sc.broadcast(payload);
        Broadcast<int[]> bLabels = sc.broadcast(labels);
        Estimator est = estimator;
        int b = batchSize;
        String fallback = device;
        try {
            JavaRDD<PartialSum> partials = sc.parallelize(ranges, Math.max(1, ranges.size()))
                    .map(r -> rangeTask(r[0], r[1], bModel, bLabels, data, est, b, fallback));
            PartialSum total = reduce(partials, model, Math.max(1, ranges.size()));
            long expectedCount = estimator.perSample() ? labels.length : SampleRanges.batches(bounds, batchSize);
            verify(total, bounds[bounds.length - 1], labels.length, expectedCount, "sample indices");
            String partitioning = ranges.size() + " index ranges" + (estimator.dependsOnBatching()
                    ? " cut at multiples of the batch size " + batchSize : "") + ", bounds " + SampleRanges.describe(bounds);
            return result(sc, model, ForgetSplit.identity(train, labels), total, partitioning, ranges.size());
        } finally {
            bModel.destroy();
            bLabels.destroy();
        }
    }

    /** One task: the partial importance over samples [from, to). */
    private static PartialSum rangeTask(long from, long to, Broadcast<ModelPayload> model, Broadcast<int[]> labels,
                                        TrainingData data, Estimator estimator, int batchSize, String fallback) {
        String dev = taskDevice(fallback);
        useTaskCores();
        try (Model m = model.value().open(); Kernels k = Backends.open(dev)) {
            placeOnTheKernelsGpu(m, k);
            Dataset train = data.openTrain();
            int[] y = labels.value();
            if (train.size() != y.length) {
                throw new LetheFormatException(data.spec() + " holds " + train.size() + " samples on this executor, "
                        + y.length + " on the driver: executors must see the same files");
            }
            try (BatchStream s = BatchStream.passes(train, y, batchSize, List.of(i -> i >= from && i < to))) {
                Importance imp = new ImportanceEstimator(estimator, k, null).estimate(m, s, s.expectedBatches(),
                        "importance over D[" + from + ", " + to + ")", placeholderProvenance(m, estimator, batchSize));
                return PartialSum.of(from, to, imp.count(), imp.samples(), imp.sums(), k.name());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    // ---- D as a Spark Dataset of images and labels --------------------------------------------------

    /**
     * A task whose kernels run on a GPU puts its model there too when libtorch's CUDA build can (forward, backward and
     * the accumulation then stay on the device, as in {@code lethe fisher --device cuda}); otherwise the model stays on
     * the host and hands its gradients to the kernels through host memory.
     */
    static void placeOnTheKernelsGpu(Model m, Kernels k) {
        if (k.unwrap() instanceof ai.lethe.kernels.cuda.CudaKernels cuda && ai.lethe.model.Libtorch.cudaAvailable()) {
            m.toCuda(cuda.deviceIndex());
        }
    }

    /**
     * The importance over every row of {@code rows}: {@code imageColumn} holds one sample's values (an array of
     * floats or doubles of {@code sampleShape}'s size, or binary uint8 pixels, scaled to [0, 1]),
     * {@code labelColumn} its integer label. Batches form within partitions in row order, so batch-dependent
     * estimators depend on the partitioning (the file records it). {@code description} names the data in the
     * importance's provenance; the labels' digest (in partition order) is added to it.
     */
    public Importance compute(JavaSparkContext sc, Model model, org.apache.spark.sql.Dataset<Row> rows, String imageColumn,
                              String labelColumn, int[] sampleShape, String description) {
        org.apache.spark.sql.Dataset<Row> selected = rows.select(imageColumn, labelColumn);
        List<Integer> labelList = selected.javaRDD().map(r -> ((Number) r.get(1)).intValue()).collect();
        int[] labels = labelList.stream().mapToInt(Integer::intValue).toArray();
        try {
            requireLabelsInRange(labels, model.numClasses(sampleShape));
        } catch (LetheFormatException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        int parts = selected.javaRDD().getNumPartitions();
        ModelPayload payload;
        try {
            payload = ModelPayload.of(model);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Broadcast<ModelPayload> bModel = sc.broadcast(payload);
        Estimator est = estimator;
        int b = batchSize;
        String fallback = device;
        int[] shape = sampleShape.clone();
        try {
            JavaRDD<PartialSum> partials = selected.javaRDD().mapPartitionsWithIndex((p, it) -> List.of(
                    rowsTask(p, it, bModel, est, b, shape, fallback)).iterator(), false);
            PartialSum total = reduce(partials, model, parts);
            long expectedCount = estimator.perSample() ? labels.length : total.count;
            verify(total, parts, labels.length, expectedCount, "partitions");
            String partitioning = "a Spark Dataset of " + parts + " partitions, batches formed within each partition in row order";
            return result(sc, model, ForgetSplit.identity(description, labels), total, partitioning, parts);
        } finally {
            bModel.destroy();
        }
    }

    private static PartialSum rowsTask(int partition, Iterator<Row> rows, Broadcast<ModelPayload> model, Estimator estimator,
                                       int batchSize, int[] shape, String fallback) {
        String dev = taskDevice(fallback);
        useTaskCores();
        try (Model m = model.value().open(); Kernels k = Backends.open(dev)) {
            placeOnTheKernelsGpu(m, k);
            Iterator<Batch> batches = new RowBatches(rows, batchSize, shape);
            Importance imp = new ImportanceEstimator(estimator, k, null).estimate(m, batches, 0,
                    "importance over partition " + partition, placeholderProvenance(m, estimator, batchSize));
            return PartialSum.of(partition, partition + 1L, imp.count(), imp.samples(), imp.sums(), k.name());
        }
    }

    // ---- reduction and checks ----------------------------------------------------------------------

    private Reduction reductionFor(Model model, int tasks) {
        if (reduction != Reduction.AUTO) {
            return reduction;
        }
        long atDriver = model.parameterCount() * 4L * (long) Math.ceil(Math.sqrt(tasks));
        return atDriver <= AUTO_TREE_LIMIT_BYTES ? Reduction.TREE : Reduction.CHUNKED;
    }

    private PartialSum reduce(JavaRDD<PartialSum> partials, Model model, int tasks) {
        try {
            return reduceOrFail(partials, model, tasks);
        } catch (Exception e) { // Scala code throws the checked SparkException undeclared
            if (e instanceof org.apache.spark.SparkException) {
                throw new IllegalStateException("the Spark job failed: " + firstLine(rootCause(e)), e);
            }
            throw e;
        }
    }

    /** The task's own error (Spark wraps it, with the executor's stack trace in the message). */
    private static Throwable rootCause(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    private static String firstLine(Throwable t) {
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        int nl = m.indexOf('\n');
        String line = nl < 0 ? m : m.substring(0, nl);
        return t instanceof org.apache.spark.SparkException ? line : line + " (" + t.getClass().getSimpleName() + ")";
    }

    private PartialSum reduceOrFail(JavaRDD<PartialSum> partials, Model model, int tasks) {
        if (reductionFor(model, tasks) == Reduction.TREE) {
            return partials.treeReduce(PartialSum::merge, 2);
        }
        long[] sizes = model.parameterSizes();
        long total = 0;
        for (long s : sizes) {
            total += s;
        }
        int chunk = chunkFloats;
        int chunks = (int) ((total + chunk - 1) / chunk);
        JavaPairRDD<Integer, PartialSum> pieces = partials.flatMapToPair(p -> TensorChunks.split(p, chunk).iterator());
        Iterator<Tuple2<Integer, PartialSum>> reduced = pieces.reduceByKey(PartialSum::merge, Math.max(1, Math.min(chunks, tasks)))
                .toLocalIterator();
        return TensorChunks.assemble(reduced, sizes, chunk, chunks);
    }

    /** Refuses a reduction that does not cover the data exactly once: a lost or doubled partial sum. */
    static void verify(PartialSum total, long pieces, long samples, long expectedCount, String what) {
        if (!total.covers(pieces)) {
            throw new IllegalStateException("the reduction covers " + what + " " + total.describeRanges() + ", not [0, "
                    + pieces + "): a partial sum was lost");
        }
        if (total.samples != samples) {
            throw new IllegalStateException("the reduction counted " + total.samples + " samples, the data holds " + samples);
        }
        if (total.count != expectedCount) {
            throw new IllegalStateException("the reduction counted " + total.count + ", expected " + expectedCount);
        }
    }

    private Importance result(JavaSparkContext sc, Model model, String dataIdentity, PartialSum total, String partitioning,
                              int tasks) {
        Provenance p = new Provenance(model.fingerprint(), estimator, batchSize, dataIdentity, "full", "file", "");
        Map<String, String> details = new LinkedHashMap<>();
        details.put(Importance.SAMPLES, Long.toString(total.samples));
        details.put("engine", "spark " + sc.version() + ", master " + sc.master());
        details.put("partitioning", partitioning);
        details.put("reduction", reductionFor(model, tasks).name().toLowerCase(java.util.Locale.ROOT));
        details.put("devices", String.join(",", total.devices));
        details.put("executors", String.join(",", total.executors));
        return new Importance(model.parameters(), total.sums, total.count, p).withDetails(details);
    }

    // ---- helpers ------------------------------------------------------------------------------------

    /** cuda:ADDRESS when Spark's resource scheduling gave this task a GPU, else the configured back end. */
    static String taskDevice(String fallback) {
        TaskContext ctx = TaskContext.get();
        return ctx == null ? fallback : deviceFor(ctx.resourcesJMap(), fallback);
    }

    /**
     * Gives libtorch the task's cores (spark.task.cpus, default 1): Spark runs one task per core, and libtorch's
     * default of one OpenMP thread per machine core in every task made the per-sample pass up to 19 times slower
     * on an oversubscribed machine (spinning threads fighting for the same cores).
     */
    private static void useTaskCores() {
        TaskContext ctx = TaskContext.get();
        if (ctx != null && ctx.cpus() > 0) {
            Libtorch.ensureLoaded();
            org.bytedeco.pytorch.global.torch.set_num_threads(ctx.cpus());
        }
    }

    static String deviceFor(Map<String, ResourceInformation> resources, String fallback) {
        ResourceInformation gpu = resources.get("gpu");
        if (gpu == null || gpu.addresses().length == 0) {
            return fallback;
        }
        String address = gpu.addresses()[0].strip();
        if (!address.matches("\\d+")) {
            throw new IllegalStateException("Spark assigned GPU address '" + address
                    + "'; Lethe expects CUDA device ordinals (0, 1, ...) from the discovery script");
        }
        return "cuda:" + address;
    }

    /** Tasks compute unnormalised sums; the driver sets the real provenance. */
    private static Provenance placeholderProvenance(Model m, Estimator estimator, int batchSize) {
        return new Provenance(m.fingerprint(), estimator, batchSize, "", "full", "file", "");
    }

    private static void requireLabelsInRange(int[] labels, int classes) throws LetheFormatException {
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new LetheFormatException("label " + labels[i] + " of training sample " + i
                        + " is out of range: the model has " + classes + " classes (0.." + (classes - 1) + ")");
            }
        }
    }
}
