package ai.lethe.spark;

import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

import org.apache.spark.sql.Row;

import ai.lethe.data.Batch;

/**
 * Batches of rows (image values, label) in row order. Images are arrays of floats or doubles, used as they are,
 * or binary uint8 pixels scaled to [0, 1] as Lethe's IDX reader scales them.
 */
final class RowBatches implements Iterator<Batch> {

    private final Iterator<Row> rows;
    private final int batchSize;
    private final int[] shape;
    private final int per;
    private int seen;

    RowBatches(Iterator<Row> rows, int batchSize, int[] shape) {
        this.rows = rows;
        this.batchSize = batchSize;
        this.shape = shape;
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        this.per = n;
    }

    @Override
    public boolean hasNext() {
        return rows.hasNext();
    }

    @Override
    public Batch next() {
        if (!rows.hasNext()) {
            throw new NoSuchElementException();
        }
        float[] x = new float[batchSize * per];
        int[] y = new int[batchSize];
        int[] idx = new int[batchSize];
        int n = 0;
        while (n < batchSize && rows.hasNext()) {
            Row r = rows.next();
            read(r.get(0), x, n * per, seen);
            Object label = r.get(1);
            if (label == null) {
                throw new IllegalArgumentException("row " + seen + " of its partition has no label");
            }
            y[n] = ((Number) label).intValue();
            idx[n] = seen++;
            n++;
        }
        if (n < batchSize) {
            x = java.util.Arrays.copyOf(x, n * per);
            y = java.util.Arrays.copyOf(y, n);
            idx = java.util.Arrays.copyOf(idx, n);
        }
        return new Batch(x, y, idx, n, shape);
    }

    private void read(Object image, float[] dst, int offset, int row) {
        if (image instanceof byte[] bytes) {
            requireLength(bytes.length, row);
            for (int i = 0; i < per; i++) {
                dst[offset + i] = (bytes[i] & 0xFF) / 255f;
            }
            return;
        }
        List<?> values;
        if (image instanceof scala.collection.Seq<?> seq) {
            values = scala.jdk.javaapi.CollectionConverters.asJava(seq);
        } else if (image instanceof List<?> list) {
            values = list;
        } else {
            throw new IllegalArgumentException("row " + row + ": the image column holds "
                    + (image == null ? "null" : image.getClass().getSimpleName())
                    + "; expected an array of floats or doubles, or binary uint8 pixels");
        }
        requireLength(values.size(), row);
        for (int i = 0; i < per; i++) {
            float v = ((Number) values.get(i)).floatValue();
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException("row " + row + " holds " + v + " at value " + i + "; images must be finite");
            }
            dst[offset + i] = v;
        }
    }

    private void requireLength(int n, int row) {
        if (n != per) {
            throw new IllegalArgumentException("row " + row + " of its partition has " + n + " image values, the sample shape "
                    + java.util.Arrays.toString(shape) + " holds " + per);
        }
    }
}
