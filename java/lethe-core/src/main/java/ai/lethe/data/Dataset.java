package ai.lethe.data;

import java.io.IOException;

/**
 * One split of a labelled image dataset on disk. Labels are small and read whole; images are only ever
 * streamed, in file order, through {@link #openReader()}, so a dataset never has to fit in memory.
 */
public interface Dataset {

    /** What and where, for reports and importance metadata, for example "fashion-mnist train[:2000]". */
    String description();

    /** Number of samples (after any limit). */
    int size();

    /** Shape of one sample, for example {1, 28, 28}. */
    int[] sampleShape();

    /** Floats per sample. */
    default int sampleSize() {
        int n = 1;
        for (int d : sampleShape()) {
            n *= d;
        }
        return n;
    }

    /** Every label, in file order. */
    int[] labels() throws IOException;

    /** A reader positioned before the first sample. */
    SampleReader openReader() throws IOException;

    /**
     * A reader that reads samples in any order (shuffled training). Gzip IDX files need their decompressed copy
     * in the cache directory for this; when it cannot be made this fails with the reason.
     */
    RandomAccess openRandomAccess() throws IOException;

    /** The first {@code n} samples of this dataset. */
    Dataset limit(int n);
}
