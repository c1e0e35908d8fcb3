package ai.lethe.method;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import ai.lethe.InvalidSettingException;
import ai.lethe.importance.Estimator;

/**
 * The registry of the unlearning methods Lethe offers (docs/algorithms.md, section 3) and of the baselines used to
 * judge them. Each entry declares its id, its settings (a {@link MethodSettings} record with its defaults), its
 * default importance estimator (none for the methods that compute no importance), its implementation and what
 * it needs. The CLI's method options, the service's request schema and its OpenAPI document are generated from
 * this table: a new method is its class, its settings record (or an existing one), a line here, its test and its
 * rows in the README's method tables (see the README, "Adding a method").
 */
public enum Method {
    /** Selective Synaptic Dampening: batch Fisher importances (or per-sample), dampening update. */
    SSD("ssd", MethodSettings.Ssd.DEFAULTS, Estimator.BATCH, SsdMethod::new, Kind.UNLEARNING,
            "importances over D and Df; dampen theta where I_f > alpha*I_D by min(lambda*I_D/I_f, 1)", "any model"),
    /** Loss-free SSD: label-free importances for both I_D and I_f, the same update. */
    LFSSD("lfssd", MethodSettings.Ssd.DEFAULTS, Estimator.LABEL_FREE, SsdMethod::new, Kind.UNLEARNING,
            "SSD with label-free importances (mean squared logit norm, |g|)", "any model"),
    /** One-shot update from the Fisher information of stored class codes (needs a model trained with codes). */
    MNEMONIC("mnemonic", MethodSettings.Mnemonic.DEFAULTS, null, MnemonicMethod::new, Kind.UNLEARNING,
            "one-shot: Fisher of the stored class codes, theta +- alpha_l*exp(log F_f - log F_r), the better sign on the codes",
            "a model trained with mnemonic codes"),
    /** Reset the weights with the largest I_f / I_r, then fine-tune only them on Dr. */
    DEEPCLEAN("deepclean", MethodSettings.DeepClean.DEFAULTS, Estimator.BATCH, DeepCleanMethod::new, Kind.UNLEARNING,
            "reset the weights with the largest I_f/(I_r+eps), fine-tune only them on Dr", "any model"),
    /** Residual Feature Alignment: LoRA branches trained to keep Dr's features and shift Df's, then merged. */
    RFA("rfa", MethodSettings.Rfa.DEFAULTS, null, RfaMethod::new, Kind.TRAINING_ONLY,
            "LoRA branches on the last layers, trained to keep Dr's features and shift Df's, then merged", "a zoo model"),
    /** Baseline: a few epochs of SGD on Dr. */
    FINETUNE("finetune", MethodSettings.Training.of(2, 0.01f), null, FinetuneMethod::new, Kind.BASELINE,
            "baseline: SGD on Dr", "any model"),
    /** Baseline: gradient ascent on Df with a descent term on Dr. */
    NEGGRAD("neggrad", MethodSettings.NegGrad.DEFAULTS, null, NegGradMethod::new, Kind.BASELINE,
            "baseline: ascent on Df with a descent term on Dr (gradient clipped, ascent capped, early stop on the retain loss)",
            "any model"),
    /** Baseline: re-initialise every parameter and train on Dr only (zoo models). */
    RETRAIN("retrain", MethodSettings.Training.of(5, 0.05f), null, RetrainMethod::new, Kind.BASELINE,
            "baseline: re-initialise every parameter and train on Dr only", "a zoo model");

    /** What a method is, for checks and reports. */
    public enum Kind {
        /** An unlearning method proper. */
        UNLEARNING,
        /** An unlearning method that is nothing but training: zero epochs would return the model unchanged. */
        TRAINING_ONLY,
        /** A baseline to judge the methods against (also nothing but training). */
        BASELINE
    }

    private final String id;
    private final MethodSettings defaults;
    private final Estimator defaultEstimator;
    private final Supplier<? extends UnlearningMethod<?>> implementation;
    private final Kind kind;
    private final String summary;
    private final String needs;

    Method(String id, MethodSettings defaults, Estimator defaultEstimator, Supplier<? extends UnlearningMethod<?>> implementation,
           Kind kind, String summary, String needs) {
        this.id = id;
        this.defaults = defaults;
        this.defaultEstimator = defaultEstimator;
        this.implementation = implementation;
        this.kind = kind;
        this.summary = summary;
        this.needs = needs;
    }

    public String id() {
        return id;
    }

    /** The method's settings with every field at its default. */
    public MethodSettings defaults() {
        return defaults;
    }

    /** The record type of this method's settings. */
    public Class<? extends MethodSettings> settingsType() {
        return defaults.getClass();
    }

    /** The fields a request for this method may set. */
    public List<SettingField> fields() {
        return defaults.fields();
    }

    /** The importance estimator it uses unless told otherwise; null for methods that compute no importance. */
    public Estimator defaultEstimator() {
        return defaultEstimator;
    }

    /** It computes importances (and so reads an estimator and a batch size, and can save them). */
    public boolean usesImportances() {
        return defaultEstimator != null;
    }

    /** It reads the importance over the full training set, so a stored one can stand in for that pass. */
    public boolean reusesImportanceFull() {
        return this == SSD || this == LFSSD;
    }

    public Kind kind() {
        return kind;
    }

    /** A baseline to compare against rather than an unlearning method. */
    public boolean baseline() {
        return kind == Kind.BASELINE;
    }

    /** It does nothing but train, so it needs at least one epoch. */
    public boolean trainsOnly() {
        return kind != Kind.UNLEARNING;
    }

    /** One line on what it does. */
    public String summary() {
        return summary;
    }

    /** What model it needs. */
    public String needs() {
        return needs;
    }

    /** A fresh instance of the implementation. */
    public UnlearningMethod<?> implementation() {
        return implementation.get();
    }

    /** The estimator to use, or a clear error when it does not fit the method. */
    public Estimator estimator(Estimator requested) {
        if (requested == null) {
            return defaultEstimator;
        }
        if (defaultEstimator == null) {
            throw InvalidSettingException.about(id + " does not use an importance estimator; drop {estimator}");
        }
        if (this == LFSSD && requested != Estimator.LABEL_FREE) {
            throw InvalidSettingException.about("lfssd uses the label-free estimator by definition; {estimator} "
                    + requested + " would make it ssd (use {method} ssd)");
        }
        if (this == SSD && requested == Estimator.LABEL_FREE) {
            throw InvalidSettingException.about("ssd with the label-free estimator is lfssd: use {method} lfssd");
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
        throw new InvalidSettingException("unknown method '" + s + "' (expected one of " + NAMES + ")");
    }

    @Override
    public String toString() {
        return id;
    }
}
