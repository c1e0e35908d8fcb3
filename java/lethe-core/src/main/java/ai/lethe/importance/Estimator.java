package ai.lethe.importance;

import java.util.Locale;

import ai.lethe.model.Loss;

/** The importance estimators of docs/algorithms.md, section 2. */
public enum Estimator {

    /** SSD reference: cross-entropy mean per batch, g∘g of the batch gradient, ÷ number of batches. */
    BATCH("batch", Loss.CROSS_ENTROPY, false, false),
    /** LFSSD: mean ‖logits‖² per batch (no labels), |g|, ÷ number of batches. */
    LABEL_FREE("label-free", Loss.LOGIT_NORM, true, false),
    /** Exact empirical Fisher: cross-entropy of each sample alone, Σ g_n∘g_n, ÷ number of samples. */
    PER_SAMPLE("per-sample", Loss.CROSS_ENTROPY, false, true);

    private final String id;
    private final Loss loss;
    private final boolean absolute;
    private final boolean perSample;

    Estimator(String id, Loss loss, boolean absolute, boolean perSample) {
        this.id = id;
        this.loss = loss;
        this.absolute = absolute;
        this.perSample = perSample;
    }

    public String id() {
        return id;
    }

    public Loss loss() {
        return loss;
    }

    /** |g| (true) or g² (false) is accumulated. */
    public boolean absolute() {
        return absolute;
    }

    /** One backward pass per sample, normalised by the number of samples (else per batch, by batches). */
    public boolean perSample() {
        return perSample;
    }

    /** True when the result depends on which samples share a batch (and so on the batch size). */
    public boolean dependsOnBatching() {
        return !perSample;
    }

    public static Estimator parse(String s) {
        String v = s.strip().toLowerCase(Locale.ROOT);
        for (Estimator e : values()) {
            if (e.id.equals(v)) {
                return e;
            }
        }
        throw new IllegalArgumentException("unknown estimator '" + s + "' (expected batch, label-free or per-sample)");
    }

    @Override
    public String toString() {
        return id;
    }
}
