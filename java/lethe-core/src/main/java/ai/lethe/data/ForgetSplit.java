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

    /**
     * The training data as an importance file records it: the dataset's description (its absolute location and
     * limit) and a digest of its labels, so that a stored importance is refused when the files behind the same
     * name were replaced or relabelled.
     */
    public String dataIdentity() {
        return identity(train, labels);
    }

    public static String identity(Dataset train, int[] labels) {
        return identity(train.description(), labels);
    }

    /** The identity of labelled data described otherwise (a Spark Dataset, for example): the description and a digest of its labels. */
    public static String identity(String description, int[] labels) {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(labels.length * 4);
            b.asIntBuffer().put(labels);
            md.update(b.array());
            String hex = java.util.HexFormat.of().formatHex(md.digest());
            return description + ", labels sha256:" + hex.substring(0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JDK has SHA-256
        }
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
