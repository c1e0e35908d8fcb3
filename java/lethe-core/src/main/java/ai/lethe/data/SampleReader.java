package ai.lethe.data;

import java.io.Closeable;
import java.io.IOException;

/** Reads a dataset's samples one after another, in file order. */
public interface SampleReader extends Closeable {

    /**
     * Reads the next sample's pixels into {@code dst[offset, offset + sampleSize)}, uint8 pixels scaled to
     * [0, 1], and returns true; returns false after the last sample.
     */
    boolean next(float[] dst, int offset) throws IOException;

    /** Skips the next sample without decoding it; false after the last sample. */
    default boolean skip(float[] scratch) throws IOException {
        return next(scratch, 0);
    }

    /**
     * Moves forward so that the next sample read is {@code index} (never backwards). Readers over random-access
     * files seek; compressed streams decode what lies between.
     */
    void skipTo(int index, float[] scratch) throws IOException;

    /**
     * Refuses a float sample holding NaN or an infinity: it would make every accuracy computed on it meaningless
     * and every gradient non-finite, so the file is reported where it is read.
     */
    static void requireFinite(float[] dst, int offset, int n, Object file, int index) throws ai.lethe.io.LetheFormatException {
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(dst[offset + i])) {
                throw new ai.lethe.io.LetheFormatException(file + ": sample " + index + " holds " + dst[offset + i]
                        + " at value " + i + "; images must be finite");
            }
        }
    }
}
