package ai.lethe.fuzz;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

import com.code_intelligence.jazzer.junit.FuzzTest;

import ai.lethe.data.IdxDataset;

/** IDX images and labels files (plain or gzip): open, read every label and sample, seek. */
class IdxFuzzTest {

    @FuzzTest(maxDuration = FuzzBudget.CI)
    void imagesAndLabels(byte[] input) {
        fuzzerTestOneInput(input);
    }

    /** Standalone Jazzer entry point (scripts/fuzz.sh). */
    public static void fuzzerTestOneInput(byte[] input) {
        byte[][] files = FuzzSupport.split(input);
        Path images = FuzzSupport.write("images-idx3-ubyte", files[0]);
        Path labels = FuzzSupport.write("labels-idx1-ubyte", files[1]);
        long decoded = decodedSize(files[0]) + decodedSize(files[1]);
        FuzzSupport.expectResultOrFormatError(decoded, () -> FuzzSupport.readAll(IdxDataset.open("fuzz", images, labels)));
    }

    /** The size after gzip decompression (counted, not stored; capped), or the size itself for a plain file. */
    static long decodedSize(byte[] file) {
        if (file.length < 2 || (file[0] & 0xFF) != 0x1f || (file[1] & 0xFF) != 0x8b) {
            return file.length;
        }
        long n = 0;
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(file))) {
            byte[] buf = new byte[8192];
            for (int r; (r = in.read(buf)) > 0 && n < (256L << 20); ) {
                n += r;
            }
        } catch (IOException e) {
            // corrupt gzip: what decoded before the damage counts
        }
        return Math.max(n, file.length);
    }
}
