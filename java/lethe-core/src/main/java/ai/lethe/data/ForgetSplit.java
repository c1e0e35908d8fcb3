package ai.lethe.data;

import java.util.List;

/**
 * A training set split into Df (the forget set) and Dr (the rest), with the streams each pass needs, in
 * the SSD reference's batching convention: Df and Dr in file order; D as Dr followed by Df.
 */
public final class ForgetSplit {

    private final Dataset train;
    private final int[] labels;
    private final ForgetSet.Resolved forget;

    public ForgetSplit(Dataset train, int[] labels, ForgetSet.Resolved forget) {
        if (labels.length != train.size() || forget.trainSize() != train.size()) {
            throw new IllegalArgumentException("labels and forget set do not match the training set size " + train.size());
        }
        this.train = train;
        this.labels = labels;
        this.forget = forget;
    }

    public Dataset train() {
        return train;
    }

    public int[] labels() {
        return labels;
    }

    public ForgetSet.Resolved forgetSet() {
        return forget;
    }

    /** Df in file order. */
    public BatchStream forget(int batchSize) {
        return BatchStream.passes(train, labels, batchSize, List.of(forget::isForget));
    }

    /** Dr in file order. */
    public BatchStream retain(int batchSize) {
        return BatchStream.passes(train, labels, batchSize, List.of(i -> !forget.isForget(i)));
    }

    /** D in the SSD reference's order: Dr in file order, then Df in file order, batches running across. */
    public BatchStream fullRetainThenForget(int batchSize) {
        return BatchStream.passes(train, labels, batchSize, List.of(i -> !forget.isForget(i), forget::isForget));
    }
}
