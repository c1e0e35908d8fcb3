package ai.lethe.method;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

import ai.lethe.importance.Estimator;

/** The unlearning methods Lethe offers (ALGORITHMS.md section 2), and the baselines used to judge them. */
public enum Method {
    /** Selective Synaptic Dampening: batch Fisher importances (or per-sample), dampening update. */
    SSD("ssd", Estimator.BATCH),
    /** Loss-free SSD: label-free importances for both I_D and I_f, the same update. */
    LFSSD("lfssd", Estimator.LABEL_FREE),
    /** One-shot update from the Fisher information of stored class codes (needs a model trained with codes). */
    MNEMONIC("mnemonic", null),
    /** Reset the weights with the largest I_f / I_r, then fine-tune only them on Dr. */
    DEEPCLEAN("deepclean", Estimator.BATCH),
    /** Residual Feature Alignment: LoRA branches trained to keep Dr's features and shift Df's, then merged. */
    RFA("rfa", null),
    /** Baseline: a few epochs of SGD on Dr. */
    FINETUNE("finetune", null),
    /** Baseline: gradient ascent on Df with a descent term on Dr. */
    NEGGRAD("neggrad", null),
    /** Baseline: re-initialise every parameter and train on Dr only (zoo models). */
    RETRAIN("retrain", null);

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
        if (defaultEstimator == null) {
            throw new ai.lethe.InvalidSettingException(id + " does not use an importance estimator; drop --estimator");
        }
        if (this == LFSSD && requested != Estimator.LABEL_FREE) {
            throw new ai.lethe.InvalidSettingException("lfssd uses the label-free estimator by definition; --estimator "
                    + requested + " would make it ssd (use --method ssd)");
        }
        if (this == SSD && requested == Estimator.LABEL_FREE) {
            throw new ai.lethe.InvalidSettingException("ssd with the label-free estimator is lfssd: use --method lfssd");
        }
        return requested;
    }

    public static final String NAMES = Arrays.stream(values()).map(Method::id).collect(Collectors.joining(", "));

    public static Method parse(String s) {
        String v = s.strip().toLowerCase(Locale.ROOT);
        for (Method m : values()) {
            if (m.id.equals(v)) {
                return m;
            }
        }
        throw new ai.lethe.InvalidSettingException("unknown method '" + s + "' (expected one of " + NAMES + ")");
    }

    @Override
    public String toString() {
        return id;
    }
}
