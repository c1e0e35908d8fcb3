package ai.lethe.bench;

import java.util.Iterator;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

import ai.lethe.data.Batch;

/**
 * Seeded synthetic samples that a short Python script can reproduce exactly (scripts/pytorch_ssd_gpu.py does):
 * element j of sample i is {@code (h / 2^32) - 0.5} in double rounded to float, with {@code h = ((seed·2^20 + i·E + j)
 * · 2654435761) mod 2^32} and E the floats per sample; its label is {@code ((((seed + i) · 2246822519) mod 2^32) >> 16) mod
 * classes}. Sample i is in the forget set when {@code i mod round(1/fraction) == 0}. Batches are made on a
 * background thread (a few ahead), so making them overlaps the passes that consume them.
 */
public class SyntheticBatches {

    private final int[] sampleShape;
    private final int perSample;
    private final int classes;
    private final long seed;

    public SyntheticBatches(int[] sampleShape, int classes, long seed) {
        this.sampleShape = sampleShape.clone();
        int n = 1;
        for (int d : sampleShape) {
            n *= d;
        }
        this.perSample = n;
        this.classes = classes;
        this.seed = seed;
    }

    /** Element j of sample i. */
    public float value(long i, int j) {
        long h = ((seed << 20) + i * perSample + j) * 2654435761L & 0xffffffffL;
        return (float) (h / 4294967296.0 - 0.5);
    }

    public int label(long i) {
        return (int) ((((seed + i) * 2246822519L & 0xffffffffL) >>> 16) % classes);
    }

    /** One batch of the given sample indices. */
    public Batch batch(int[] indices) {
        float[] x = new float[indices.length * perSample];
        int[] y = new int[indices.length];
        for (int b = 0; b < indices.length; b++) {
            int base = b * perSample;
            for (int j = 0; j < perSample; j++) {
                x[base + j] = value(indices[b], j);
            }
            y[b] = label(indices[b]);
        }
        return new Batch(x, y, indices.clone(), indices.length, sampleShape.clone());
    }

    /** Batches of {@code batchSize} over the given indices in order, made ahead on a background thread. */
    public Iterator<Batch> batches(int[] indices, int batchSize) {
        BlockingQueue<Object> queue = new ArrayBlockingQueue<>(4);
        Object end = new Object();
        Thread maker = new Thread(() -> {
            try {
                for (int from = 0; from < indices.length; from += batchSize) {
                    queue.put(batch(java.util.Arrays.copyOfRange(indices, from, Math.min(indices.length, from + batchSize))));
                }
                queue.put(end);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "lethe-synthetic-batches");
        maker.setDaemon(true);
        maker.start();
        return new ai.lethe.data.QueuedBatches(queue, end);
    }
}
