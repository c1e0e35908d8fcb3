package ai.lethe.method;

import java.util.Locale;

import ai.lethe.importance.Estimator;

/** The unlearning methods Lethe offers. */
public enum Method {
    /** Selective Synaptic Dampening: batch Fisher importances (or per-sample), dampening update. */
    SSD("ssd", Estimator.BATCH),
    /** Loss-free SSD: label-free importances for both I_D and I_f, the same update. */
    LFSSD("lfssd", Estimator.LABEL_FREE);

    private final String id;
    private final Estimator defaultEstimator;

    Method(String id, Estimator defaultEstimator) {
        this.id = id;
        this.defaultEstimator = defaultEstimator;
    }

    public String id() {
        return id;
    }

    public Estimator defaultEstimator() {
        return defaultEstimator;
    }

    /** The estimator to use, or a clear error when it does not fit the method. */
    public Estimator estimator(Estimator requested) {
        if (requested == null) {
            return defaultEstimator;
        }
        if (this == LFSSD && requested != Estimator.LABEL_FREE) {
            throw new IllegalArgumentException("lfssd uses the label-free estimator by definition; --estimator "
                    + requested + " would make it ssd (use --method ssd)");
        }
        if (this == SSD && requested == Estimator.LABEL_FREE) {
            throw new IllegalArgumentException("ssd with the label-free estimator is lfssd: use --method lfssd");
        }
        return requested;
    }

    public static Method parse(String s) {
        String v = s.strip().toLowerCase(Locale.ROOT);
        for (Method m : values()) {
            if (m.id.equals(v)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown method '" + s + "' (expected ssd or lfssd)");
    }

    @Override
    public String toString() {
        return id;
    }
}
