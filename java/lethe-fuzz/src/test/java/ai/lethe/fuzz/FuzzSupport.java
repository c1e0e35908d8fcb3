package ai.lethe.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

import ai.lethe.io.LetheFormatException;

/**
 * What every file-reader target holds its reader to: each input ends in a result or a {@link LetheFormatException}
 * with a one-line message (the documented error: the CLI prints it and exits 1); any other exception, an error, a
 * hang (the per-input timeout in junit-platform.properties) or an allocation beyond {@link #allocationBound} is a
 * finding.
 */
final class FuzzSupport {

    /** The stated bound: a reader allocates at most this many bytes for an input of {@code inputBytes} (decoded). */
    static long allocationBound(long inputBytes) {
        return 64 * inputBytes + (32L << 20);
    }

    /** The longest error message a reader may produce (it goes to a terminal in one line). */
    static final int MAX_MESSAGE_CHARS = 2_000;

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** One directory per JVM for the files a target writes; each execution overwrites them. */
    private static final Path DIR;

    static {
        try {
            DIR = Files.createTempDirectory("lethe-fuzz-");
            DIR.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // gzip IDX files are decompressed into this cache: keep it inside the fuzz directory
        System.setProperty("lethe.cache.dir", DIR.resolve("cache").toString());
    }

    private FuzzSupport() {
    }

    interface ReaderRun {
        void run() throws IOException;
    }

    static Path dir() {
        return DIR;
    }

    static Path write(String name, byte[] bytes) {
        try {
            return Files.write(DIR.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Runs {@code reader}: a result or a LetheFormatException with a one-line message passes; anything else
     * propagates (a finding). {@code decodedBytes} is what the allocation bound is measured against (the
     * decompressed size for gzip inputs).
     */
    static void expectResultOrFormatError(long decodedBytes, ReaderRun reader) {
        long allocated = allocatedBy(reader);
        if (allocated > allocationBound(decodedBytes)) {
            // The first run of a code path also loads (and instruments) classes on this thread: measure again.
            allocated = allocatedBy(reader);
        }
        if (allocated > allocationBound(decodedBytes)) {
            throw new AssertionError("allocated " + allocated + " bytes for an input of " + decodedBytes
                    + " bytes (bound " + allocationBound(decodedBytes) + ")");
        }
    }

    private static long allocatedBy(ReaderRun reader) {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        try {
            reader.run();
        } catch (LetheFormatException e) {
            requireOneLine(e);
        } catch (IOException e) {
            throw new AssertionError("an I/O error other than the documented LetheFormatException: " + e, e);
        }
        return THREADS.getCurrentThreadAllocatedBytes() - before;
    }

    static void requireOneLine(Exception e) {
        String m = e.getMessage();
        if (m == null || m.isBlank() || m.contains("\n") || m.contains("\r") || m.length() > MAX_MESSAGE_CHARS) {
            throw new AssertionError("the error must be one line of at most " + MAX_MESSAGE_CHARS + " characters: "
                    + (m == null ? null : m.length() > 300 ? m.substring(0, 300) + "…" : m), e);
        }
    }

    /** Splits an input into two files' contents: a 2-byte big-endian length, the first file, the rest. */
    static byte[][] split(byte[] data) {
        if (data.length < 2) {
            return new byte[][] {data, new byte[0]};
        }
        int first = Math.min(((data[0] & 0xFF) << 8) | (data[1] & 0xFF), data.length - 2);
        byte[] a = java.util.Arrays.copyOfRange(data, 2, 2 + first);
        byte[] b = java.util.Arrays.copyOfRange(data, 2 + first, data.length);
        return new byte[][] {a, b};
    }

    /** Joins two files' contents in the format {@link #split} reads (for writing seeds). */
    static byte[] join(byte[] a, byte[] b) {
        byte[] out = new byte[2 + a.length + b.length];
        out[0] = (byte) (a.length >>> 8);
        out[1] = (byte) a.length;
        System.arraycopy(a, 0, out, 2, a.length);
        System.arraycopy(b, 0, out, 2 + a.length, b.length);
        return out;
    }

    /** Reads every sample of a dataset that opened, in order and at random positions. */
    static void readAll(ai.lethe.data.Dataset d) throws IOException {
        int[] labels = d.labels();
        if (labels.length != d.size()) {
            throw new AssertionError(labels.length + " labels for " + d.size() + " samples");
        }
        // The harness's own buffer, only when there is a sample to read: an empty data set may announce samples of
        // up to 2^26 values that nothing in the file backs, and the bound is on what the reader allocates.
        float[] sample = new float[d.size() > 0 ? d.sampleSize() : 0];
        int read = 0;
        try (ai.lethe.data.SampleReader r = d.openReader()) {
            while (r.next(sample, 0)) {
                read++;
            }
        }
        if (read != d.size()) {
            throw new AssertionError("read " + read + " samples of " + d.size());
        }
        try (ai.lethe.data.RandomAccess r = d.openRandomAccess()) {
            if (d.size() > 0) {
                r.read(d.size() - 1, sample, 0);
                r.read(0, sample, 0);
            }
        }
    }
}
