package ai.lethe.data;

import java.io.Closeable;
import java.io.IOException;

/** Reads any sample of a dataset by index: what shuffled training passes need. */
public interface RandomAccess extends Closeable {

    /** Reads sample {@code index}'s pixels into {@code dst[offset, offset + sampleSize)}. */
    void read(int index, float[] dst, int offset) throws IOException;
}
