package ai.lethe.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import ai.lethe.io.LetheFormatException;
import ai.lethe.io.SafetensorsFile;

/**
 * A safetensors file holding {@code x} (uint8, scaled to [0, 1], or float) of shape [N, ...] and integer
 * labels {@code y} [N]. Images of shape [N, H, W] are read as [1, H, W]. Samples are read in ranges, so the
 * file is streamed, not loaded.
 */
public final class SafetensorsDataset implements Dataset {

    private static final int SAMPLES_PER_READ = 256;

    private final String name;
    private final Path path;
    private final SafetensorsFile.Entry x;
    private final int[] sampleShape;
    private final int limit;

    private SafetensorsDataset(String name, Path path, SafetensorsFile.Entry x, int[] sampleShape, int limit) {
        this.name = name;
        this.path = path;
        this.x = x;
        this.sampleShape = sampleShape;
        this.limit = limit;
    }

    public static SafetensorsDataset open(String name, Path path) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            SafetensorsFile.Entry x = f.entry("x");
            SafetensorsFile.Entry y = f.entry("y");
            long[] xs = x.shape();
            if (xs.length < 2) {
                throw new LetheFormatException(path + ": x needs a shape [N, ...], found " + Arrays.toString(xs));
            }
            if (y.shape().length != 1 || y.shape()[0] != xs[0]) {
                throw new LetheFormatException(path + ": y has shape " + Arrays.toString(y.shape()) + ", expected [" + xs[0] + "]");
            }
            long per = 1;
            for (int i = 1; i < xs.length; i++) {
                per *= xs[i]; // no overflow: the file holds xs[0] * per elements, or xs[0] is 0 and checked next
                if (xs[i] > Integer.MAX_VALUE || per > IdxDataset.MAX_PIXELS) {
                    throw new LetheFormatException(path + ": x has shape " + Arrays.toString(xs) + "; samples of more than "
                            + IdxDataset.MAX_PIXELS + " values are larger than Lethe reads");
                }
            }
            if (xs[0] > Integer.MAX_VALUE) {
                throw new LetheFormatException(path + ": x has shape " + Arrays.toString(xs) + ", more samples than Lethe reads");
            }
            int[] shape;
            if (xs.length == 3) {
                shape = new int[] {1, (int) xs[1], (int) xs[2]};
            } else {
                shape = new int[xs.length - 1];
                for (int i = 1; i < xs.length; i++) {
                    shape[i - 1] = (int) xs[i];
                }
            }
            return new SafetensorsDataset(name, path, x, shape, (int) xs[0]);
        }
    }

    @Override
    public String description() {
        return name + (limit < x.shape()[0] ? "[:" + limit + "]" : "");
    }

    @Override
    public int size() {
        return limit;
    }

    @Override
    public int[] sampleShape() {
        return sampleShape.clone();
    }

    @Override
    public Dataset limit(int n) {
        return new SafetensorsDataset(name, path, x, sampleShape, Math.min(n, limit));
    }

    @Override
    public int[] labels() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            long[] raw = new long[limit];
            f.readLongs("y", 0, raw, 0, limit);
            int[] out = new int[limit];
            for (int i = 0; i < limit; i++) {
                if (raw[i] < Integer.MIN_VALUE || raw[i] > Integer.MAX_VALUE) {
                    throw new LetheFormatException(path + ": label " + raw[i] + " at index " + i + " is out of range");
                }
                out[i] = (int) raw[i];
            }
            return out;
        }
    }

    @Override
    public RandomAccess openRandomAccess() throws IOException {
        SafetensorsFile f = SafetensorsFile.open(path);
        int per = sampleSize();
        boolean uint8 = x.dtype().equals("U8");
        return new RandomAccess() {
            @Override
            public void read(int index, float[] dst, int offset) throws IOException {
                if (index < 0 || index >= limit) {
                    throw new IndexOutOfBoundsException("sample " + index + " of " + limit);
                }
                f.readFloats("x", (long) index * per, dst, offset, per);
                if (uint8) {
                    for (int i = 0; i < per; i++) {
                        dst[offset + i] /= 255f;
                    }
                } else {
                    SampleReader.requireFinite(dst, offset, per, path, index);
                }
            }

            @Override
            public void close() throws IOException {
                f.close();
            }
        };
    }

    @Override
    public SampleReader openReader() throws IOException {
        SafetensorsFile f = SafetensorsFile.open(path);
        int per = sampleSize();
        boolean uint8 = x.dtype().equals("U8");
        float[] block = new float[Math.min(SAMPLES_PER_READ, limit) * per];
        return new SampleReader() {
            private int read;
            private int blockStart;
            private int blockCount;

            @Override
            public boolean next(float[] dst, int offset) throws IOException {
                if (read >= limit) {
                    return false;
                }
                if (read >= blockStart + blockCount) {
                    blockStart = read;
                    blockCount = Math.min(SAMPLES_PER_READ, limit - read);
                    f.readFloats("x", (long) blockStart * per, block, 0, blockCount * per);
                }
                int at = (read - blockStart) * per;
                if (uint8) {
                    for (int i = 0; i < per; i++) {
                        dst[offset + i] = block[at + i] / 255f;
                    }
                } else {
                    System.arraycopy(block, at, dst, offset, per);
                    SampleReader.requireFinite(dst, offset, per, path, read);
                }
                read++;
                return true;
            }

            @Override
            public void skipTo(int index, float[] scratch) {
                read = Math.max(read, Math.min(index, limit)); // reads are by absolute range: nothing to skip over
            }

            @Override
            public void close() throws IOException {
                f.close();
            }
        };
    }
}
