package ai.lethe.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.IntPredicate;

import ai.lethe.profile.Profiler;

/**
 * Batches read from disk by a background thread into a bounded queue, so decoding and I/O overlap the
 * consumer's forward/backward passes and at most {@code prefetch} batches are ever held.
 *
 * <p>The stream makes one or more passes over the dataset in file order; each pass keeps the samples
 * its predicate accepts. Batches run on across pass boundaries, which is how the SSD reference batches D:
 * the retain samples in file order followed by the forget samples in file order, without shuffling, the
 * last partial batch counting as a batch.
 */
public final class BatchStream implements Iterator<Batch>, AutoCloseable {

    /** Batches held ahead of the consumer. */
    public static final int DEFAULT_PREFETCH = 4;

    private static final Object END = new Object();

    private record Failure(Throwable error) {
    }

    private final BlockingQueue<Object> queue;
    private final Thread producer;
    private final int expectedSamples;
    private final int batchSize;
    private Object next;
    private boolean finished;

    /** Name of the prefetch threads this thread starts; profiles show each name as a track of its own. */
    private static final ThreadLocal<String> PRODUCER_NAME = ThreadLocal.withInitial(() -> "lethe-prefetch");

    /**
     * Names the prefetch threads that streams opened on this thread start from now on, and returns the previous
     * name (to restore). The evaluation names its readers apart, so a profile's read/decode rows tell the
     * unlearning's reading from the evaluation's.
     */
    public static String nameProducers(String name) {
        String previous = PRODUCER_NAME.get();
        PRODUCER_NAME.set(name);
        return previous;
    }

    private BatchStream(Dataset dataset, int[] labels, int batchSize, int[] order, SampleTransform transform, int prefetch) {
        requireBatchSize(batchSize);
        this.batchSize = batchSize;
        this.queue = new ArrayBlockingQueue<>(Math.max(1, prefetch));
        this.expectedSamples = order.length;
        requireBatchFits(dataset, batchSize, expectedSamples);
        this.producer = new Thread(() -> produceOrdered(dataset, labels, order, transform), PRODUCER_NAME.get());
        this.producer.setDaemon(true);
        this.producer.start();
    }

    /** A batch's samples are one Java array: refused here, clearly, rather than as a negative array size later. */
    private static void requireBatchFits(Dataset dataset, int batchSize, int expectedSamples) {
        long values = (long) Math.min(batchSize, expectedSamples) * dataset.sampleSize();
        if (values > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a batch of " + Math.min(batchSize, expectedSamples) + " samples of "
                    + dataset.sampleSize() + " values each (" + dataset.description() + ") holds " + values
                    + " values, more than one array can: use a smaller --batch-size");
        }
    }

    private static void requireBatchSize(int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
    }

    private BatchStream(Dataset dataset, int[] labels, int batchSize, List<IntPredicate> passes, int prefetch) {
        requireBatchSize(batchSize);
        this.batchSize = batchSize;
        this.queue = new ArrayBlockingQueue<>(Math.max(1, prefetch));
        int expected = 0;
        for (IntPredicate p : passes) {
            for (int i = 0; i < dataset.size(); i++) {
                if (p.test(i)) {
                    expected++;
                }
            }
        }
        this.expectedSamples = expected;
        requireBatchFits(dataset, batchSize, expectedSamples);
        this.producer = new Thread(() -> produce(dataset, labels, passes), PRODUCER_NAME.get());
        this.producer.setDaemon(true);
        this.producer.start();
    }

    /** Changes a sample as it is read (for example replacing it with its class's mnemonic code). */
    @FunctionalInterface
    public interface SampleTransform {
        void apply(int index, int label, float[] x, int offset);
    }

    /**
     * The samples at {@code order}'s indices, in that order (a shuffled epoch), read by random access; the
     * transform (may be null) sees each sample after it is read.
     */
    public static BatchStream ordered(Dataset dataset, int[] labels, int batchSize, int[] order, SampleTransform transform) {
        if (labels.length != dataset.size()) {
            throw new IllegalArgumentException(labels.length + " labels for " + dataset.size() + " samples");
        }
        return new BatchStream(dataset, labels, batchSize, order, transform, DEFAULT_PREFETCH);
    }

    /** Every sample of the dataset, in file order. */
    public static BatchStream all(Dataset dataset, int[] labels, int batchSize) {
        return passes(dataset, labels, batchSize, List.of(i -> true));
    }

    /** One pass per predicate, in order, batches continuing across passes. */
    public static BatchStream passes(Dataset dataset, int[] labels, int batchSize, List<IntPredicate> passes) {
        if (labels.length != dataset.size()) {
            throw new IllegalArgumentException(labels.length + " labels for " + dataset.size() + " samples");
        }
        return new BatchStream(dataset, labels, batchSize, passes, DEFAULT_PREFETCH);
    }

    /** How many samples the stream will deliver. */
    public int expectedSamples() {
        return expectedSamples;
    }

    /** How many batches the stream will deliver (the last one may be partial). */
    public int expectedBatches() {
        return (expectedSamples + batchSize - 1) / batchSize;
    }

    /**
     * One or more passes in file order, batches continuing across passes. A {@link ResidentSamples} data set is not
     * read at all: its batches carry indices and labels, and the model takes their rows on the device.
     */
    private void produce(Dataset dataset, int[] labels, List<IntPredicate> passes) {
        ResidentSamples resident = dataset instanceof ResidentSamples r ? r : null;
        Profiler.Span reading = null; // one span per batch, from its first read to its hand-over
        try {
            int per = dataset.sampleSize();
            int[] shape = dataset.sampleShape();
            // Sample buffers are allocated when a sample is read, not before: a data set with no sample (or none
            // accepted) allocates nothing, however large the samples its header announces.
            float[] scratch = null;
            float[] x = null;
            int[] y = new int[batchSize];
            int[] idx = new int[batchSize];
            int n = 0;
            for (IntPredicate accept : passes) {
                int last = -1;
                for (int i = dataset.size() - 1; i >= 0; i--) {
                    if (accept.test(i)) {
                        last = i;
                        break;
                    }
                }
                if (last < 0) {
                    continue;
                }
                try (SampleReader reader = resident == null ? dataset.openReader() : null) {
                    for (int i = 0; i <= last; i++) { // no need to read past the last accepted sample
                        if (!accept.test(i)) {
                            continue;
                        }
                        if (reader != null) {
                            if (reading == null) {
                                reading = Profiler.span("read/decode");
                            }
                            if (x == null) {
                                scratch = scratch == null ? new float[per] : scratch;
                                x = new float[Math.min(batchSize, expectedSamples) * per];
                            }
                            reader.skipTo(i, scratch); // a seek where the file allows it
                            if (!reader.next(x, n * per)) {
                                throw new IOException(dataset.description() + ": ended after " + i + " samples");
                            }
                        }
                        y[n] = labels[i];
                        idx[n] = i;
                        if (++n == batchSize) {
                            if (reading != null) {
                                reading.close();
                                reading = null;
                            }
                            put(batch(resident, x, y, idx, n, shape));
                            x = null;
                            y = new int[batchSize];
                            idx = new int[batchSize];
                            n = 0;
                        }
                    }
                }
            }
            if (n > 0) {
                if (reading != null) {
                    reading.close();
                    reading = null;
                }
                put(batch(resident, x == null ? null : Arrays.copyOf(x, n * per), Arrays.copyOf(y, n), Arrays.copyOf(idx, n), n,
                        shape));
            }
            put(END);
        } catch (Throwable e) {
            failed(e); // an interrupt: closed by the consumer
        } finally {
            if (reading != null) {
                reading.close(); // a failed read still ends its span (and its NVTX range)
            }
        }
    }

    /**
     * The samples at {@code order}'s indices, by random access; a {@link ResidentSamples} data set is not read
     * unless a transform has to change the samples.
     */
    private void produceOrdered(Dataset dataset, int[] labels, int[] order, SampleTransform transform) {
        ResidentSamples resident = transform == null && dataset instanceof ResidentSamples r ? r : null;
        try (RandomAccess reader = resident == null ? dataset.openRandomAccess() : null) {
            int per = dataset.sampleSize();
            int[] shape = dataset.sampleShape();
            for (int start = 0; start < order.length; start += batchSize) {
                int n = Math.min(batchSize, order.length - start);
                float[] x = reader == null ? null : new float[n * per];
                int[] y = new int[n];
                int[] idx = new int[n];
                try (Profiler.Span s = reader == null ? null : Profiler.span("read/decode")) {
                    for (int k = 0; k < n; k++) {
                        int i = order[start + k];
                        if (reader != null) {
                            reader.read(i, x, k * per);
                        }
                        y[k] = labels[i];
                        idx[k] = i;
                        if (transform != null) {
                            transform.apply(i, y[k], x, k * per);
                        }
                    }
                }
                put(batch(resident, x, y, idx, n, shape));
            }
            put(END);
        } catch (Throwable e) {
            failed(e);
        }
    }

    /** Samples in {@code x}, or rows of the resident data set when there is one. */
    private static Batch batch(ResidentSamples resident, float[] x, int[] y, int[] idx, int n, int[] shape) {
        return resident != null ? Batch.ofResident(resident, y, idx, n) : new Batch(x, y, idx, n, shape);
    }

    /** Hands a producer's failure to the consumer; an interrupt means the consumer closed the stream. */
    private void failed(Throwable e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
            return;
        }
        try {
            put(new Failure(e));
        } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
        }
    }

    private void put(Object item) throws InterruptedException {
        queue.put(item);
    }

    @Override
    public boolean hasNext() {
        if (finished) {
            return false;
        }
        if (next == null) {
            try {
                next = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for data", e);
            }
        }
        if (next == END) {
            finished = true;
            return false;
        }
        if (next instanceof Failure f) {
            finished = true;
            Throwable e = f.error();
            if (e instanceof IOException io) {
                throw new UncheckedIOException(io.getMessage(), io);
            }
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("reading data failed: " + e, e);
        }
        return true;
    }

    @Override
    public Batch next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Batch b = (Batch) next;
        next = null;
        return b;
    }

    /** Stops the reader thread; safe to call at any time, also before the end. */
    @Override
    public void close() {
        finished = true;
        producer.interrupt();
        queue.clear();
        try {
            producer.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
