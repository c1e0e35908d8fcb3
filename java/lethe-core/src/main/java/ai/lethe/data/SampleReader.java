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
}
