package ai.lethe.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

import ai.lethe.io.LetheFormatException;

/**
 * The IDX format of the MNIST family (gzip-compressed or not): an images file of unsigned bytes
 * [N, H, W] and a labels file [N]. Images come out as [1, H, W] floats in [0, 1].
 */
public final class IdxDataset implements Dataset {

    private static final int IMAGES_MAGIC = 0x0000_0803;
    private static final int LABELS_MAGIC = 0x0000_0801;
    /** The largest image read, in pixels (a float buffer of this many values per sample is allocated). */
    static final long MAX_PIXELS = 1L << 26;

    private final String name;
    private final Path images;
    private final Path labels;
    private final int count;
    private final int rows;
    private final int cols;
    private final int limit;

    private IdxDataset(String name, Path images, Path labels, int count, int rows, int cols, int limit) {
        this.name = name;
        this.images = images;
        this.labels = labels;
        this.count = count;
        this.rows = rows;
        this.cols = cols;
        this.limit = limit;
    }

    /** Opens an images/labels pair and checks their headers agree. */
    public static IdxDataset open(String name, Path images, Path labels) throws IOException {
        int[] imageHeader;
        try (DataInputStream in = stream(images)) {
            imageHeader = header(images, in, IMAGES_MAGIC, 3);
        }
        int[] labelHeader;
        try (DataInputStream in = stream(labels)) {
            labelHeader = header(labels, in, LABELS_MAGIC, 1);
        }
        if (imageHeader[0] != labelHeader[0]) {
            throw new LetheFormatException(images + " holds " + imageHeader[0] + " images but " + labels + " holds "
                    + labelHeader[0] + " labels");
        }
        // What the headers announce must be there before anyone allocates for it (a forged header is a few bytes).
        long pixels = (long) imageHeader[1] * imageHeader[2];
        if (pixels > MAX_PIXELS) {
            throw new LetheFormatException(images + ": images of " + imageHeader[1] + "x" + imageHeader[2]
                    + " pixels are larger than Lethe reads (" + MAX_PIXELS + " pixels)");
        }
        requireHolds(images, 16 + imageHeader[0] * pixels, imageHeader[0] + " images");
        requireHolds(labels, 8L + labelHeader[0], labelHeader[0] + " labels");
        return new IdxDataset(name, images, labels, imageHeader[0], imageHeader[1], imageHeader[2], imageHeader[0]);
    }

    private static DataInputStream stream(Path p) throws IOException {
        if (!Files.isRegularFile(p)) {
            throw new NoSuchFileException(p.toString(), null, "IDX file not found");
        }
        InputStream raw = new BufferedInputStream(Files.newInputStream(p), 1 << 16);
        try {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            InputStream in = (b0 == 0x1f && b1 == 0x8b) ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16) : raw;
            return new DataInputStream(in);
        } catch (ZipException | EOFException e) { // the gzip header itself is damaged
            raw.close();
            throw new LetheFormatException(p + ": corrupt gzip data (" + e.getMessage() + ")");
        }
    }

    /**
     * Refuses a file that holds fewer than {@code bytes} (decompressed): a gzip file is decompressed once into the
     * cache that readers use anyway, or counted through when no copy can be made.
     */
    private static void requireHolds(Path p, long bytes, String what) throws IOException {
        long held;
        if (!isGzip(p)) {
            held = Files.size(p);
        } else {
            Path copy = DecompressedCache.of(p, bytes);
            held = copy != null ? Files.size(copy) : decompressedSize(p); // also finds damage the copy ran into
        }
        if (held < bytes) {
            throw new LetheFormatException(p + ": truncated (" + held + " bytes" + (isGzip(p) ? " decompressed" : "")
                    + ", its header announces " + what + " in " + bytes + ")");
        }
    }

    /** The decompressed size of a gzip file, counted to its end (nothing is kept). */
    private static long decompressedSize(Path p) throws IOException {
        long n = 0;
        try (DataInputStream in = stream(p)) {
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) > 0; ) {
                n += r;
            }
        } catch (EOFException | ZipException e) {
            throw new LetheFormatException(p + ": corrupt gzip data (" + e.getMessage() + ")");
        }
        return n;
    }

    private static int[] header(Path p, DataInputStream in, int magic, int dims) throws IOException {
        try {
            int m = in.readInt();
            if (m != magic) {
                throw new LetheFormatException(p + ": not an IDX " + (dims == 3 ? "images" : "labels")
                        + " file (magic " + String.format("0x%08x", m) + ", expected " + String.format("0x%08x", magic) + ")");
            }
            int[] d = new int[dims];
            for (int i = 0; i < dims; i++) {
                d[i] = in.readInt();
                if (d[i] <= 0) {
                    throw new LetheFormatException(p + ": IDX dimension " + i + " is " + d[i]);
                }
            }
            return d;
        } catch (EOFException e) {
            throw new LetheFormatException(p + ": truncated IDX header");
        } catch (ZipException e) {
            throw new LetheFormatException(p + ": corrupt gzip data (" + e.getMessage() + ")");
        }
    }

    @Override
    public String description() {
        return name + (limit < count ? "[:" + limit + "]" : "");
    }

    @Override
    public int size() {
        return limit;
    }

    @Override
    public int[] sampleShape() {
        return new int[] {1, rows, cols};
    }

    @Override
    public Dataset limit(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("limit must not be negative");
        }
        return new IdxDataset(name, images, labels, count, rows, cols, Math.min(n, limit));
    }

    @Override
    public int[] labels() throws IOException {
        try (DataInputStream in = stream(labels)) {
            header(labels, in, LABELS_MAGIC, 1);
            byte[] b = new byte[limit];
            in.readFully(b);
            int[] out = new int[limit];
            for (int i = 0; i < limit; i++) {
                out[i] = b[i] & 0xFF;
            }
            return out;
        } catch (EOFException e) {
            throw new LetheFormatException(labels + ": truncated (fewer labels than its header announces)");
        } catch (ZipException e) {
            throw new LetheFormatException(labels + ": corrupt gzip data (" + e.getMessage() + ")");
        }
    }

    @Override
    public SampleReader openReader() throws IOException {
        int pixels = rows * cols;
        long bytes = 16L + (long) count * pixels;
        Path raw = isGzip(images) ? DecompressedCache.of(images, bytes) : images;
        if (raw != null) {
            return new RecordReader(raw, 16, limit, pixels, RecordReader.Encoding.U8_SCALED, "images", count);
        }
        return streamReader(pixels);
    }

    @Override
    public RandomAccess openRandomAccess() throws IOException {
        int pixels = rows * cols;
        long bytes = 16L + (long) count * pixels;
        Path raw = isGzip(images) ? DecompressedCache.of(images, bytes) : images;
        if (raw == null) {
            throw new IOException(images + " is gzip-compressed and no decompressed copy could be made in "
                    + DecompressedCache.directory() + " (set LETHE_CACHE_DIR to a writable directory); shuffled passes need one");
        }
        return new RecordReader(raw, 16, limit, pixels, RecordReader.Encoding.U8_SCALED, "images", count);
    }

    private static boolean isGzip(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            return in.read() == 0x1f && in.read() == 0x8b;
        }
    }

    /** Decodes the gzip stream in order; the fallback when no decompressed copy can be made. */
    private SampleReader streamReader(int pixels) throws IOException {
        DataInputStream in = stream(images);
        header(images, in, IMAGES_MAGIC, 3);
        byte[] buf = new byte[pixels];
        return new SampleReader() {
            private int read;

            @Override
            public boolean next(float[] dst, int offset) throws IOException {
                if (read >= limit) {
                    return false;
                }
                fill();
                for (int i = 0; i < pixels; i++) {
                    dst[offset + i] = (buf[i] & 0xFF) / 255f;
                }
                return true;
            }

            @Override
            public boolean skip(float[] scratch) throws IOException {
                if (read >= limit) {
                    return false;
                }
                fill();
                return true;
            }

            @Override
            public void skipTo(int index, float[] scratch) throws IOException {
                while (read < Math.min(index, limit)) {
                    fill();
                }
            }

            private void fill() throws IOException {
                try {
                    in.readFully(buf);
                } catch (EOFException e) {
                    throw new LetheFormatException(images + ": truncated after " + read + " of " + count + " images");
                } catch (ZipException e) {
                    throw new LetheFormatException(images + ": corrupt gzip data (" + e.getMessage() + ")");
                }
                read++;
            }

            @Override
            public void close() throws IOException {
                in.close();
            }
        };
    }
}
