package ai.lethe.model;

/**
 * How the per-sample estimator gets each sample's gradient (ALGORITHMS.md section 1). All three give the same
 * sums up to fp32 rounding; they differ in cost. Declared fastest first: a model that supports one path supports
 * every later one.
 */
public enum PerSamplePath {

    /** One batched forward and backward per batch, per-sample gradients from layer inputs and output gradients (zoo models). */
    BATCHED("batched", "one batched backward pass per batch, per-sample gradients from each layer's inputs and output gradients"),
    /** One single-sample backward pass per sample, several at once on concurrent threads (any libtorch model). */
    THREADED("threaded", "one single-sample backward pass per sample, on concurrent threads"),
    /** One single-sample backward pass per sample, one after another: the reference. */
    LOOP("loop", "one single-sample backward pass per sample, one after another");

    private final String id;
    private final String description;

    PerSamplePath(String id, String description) {
        this.id = id;
        this.description = description;
    }

    public String id() {
        return id;
    }

    /** One line for reports: what ran. */
    public String description() {
        return description;
    }

    public static PerSamplePath parse(String s) {
        for (PerSamplePath p : values()) {
            if (p.id.equals(s.strip().toLowerCase(java.util.Locale.ROOT))) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown per-sample path '" + s + "' (expected batched, threaded or loop)");
    }

    @Override
    public String toString() {
        return id;
    }
}
