package ai.lethe;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

import ai.lethe.data.ForgetSet;
import ai.lethe.importance.Estimator;
import ai.lethe.method.Method;
import ai.lethe.method.MethodSettings;

/**
 * What to forget and how: the run-level settings (data, forget set, importance estimator and batching,
 * evaluation, importance reuse, seed) and one {@link MethodSettings} record for the method.
 *
 * <pre>{@code
 * ForgetRequest.of("fashion-mnist", ForgetSet.classes(1)).method(Method.LFSSD)
 *         .settings(MethodSettings.Ssd.DEFAULTS.withAlpha(2)).trainLimit(10_000)
 * }</pre>
 */
public final class ForgetRequest {

    private final String data;
    private final ForgetSet forgetSet;
    private Method method = Method.SSD;
    private MethodSettings settings = Method.SSD.defaults();
    private Estimator estimator;
    private int batchSize = 64;
    private int trainLimit;
    private Path importanceFull;
    private Path saveImportances;
    private boolean evaluate = true;
    private int evalBatchSize = 256;
    private long seed;

    private ForgetRequest(String data, ForgetSet forgetSet) {
        this.data = Objects.requireNonNull(data, "data");
        this.forgetSet = Objects.requireNonNull(forgetSet, "forget set");
    }

    /** Forget {@code forgetSet} of the training split of {@code data} (see {@link ai.lethe.data.DataSource#open}). */
    public static ForgetRequest of(String data, ForgetSet forgetSet) {
        return new ForgetRequest(data, forgetSet);
    }

    /** The method; its settings start at the method's defaults (set them after choosing the method). */
    public ForgetRequest method(Method m) {
        if (m != method) {
            this.method = Objects.requireNonNull(m);
            this.settings = m.defaults();
        }
        return this;
    }

    /** The method's settings: a record of the method's settings type (checked by {@link #validate}). */
    public ForgetRequest settings(MethodSettings s) {
        this.settings = Objects.requireNonNull(s, "settings");
        return this;
    }

    /** One setting of the method by its field name ({@code "alpha"}, {@code "epochs"}), checked at once. */
    public ForgetRequest set(String field, Object value) {
        this.settings = settings.with(field, value);
        return this;
    }

    /** Importance estimator of the methods that compute importances; null = the method's default. */
    public ForgetRequest estimator(Estimator e) {
        this.estimator = e;
        return this;
    }

    /** Batch size of the importance passes (default 64). */
    public ForgetRequest batchSize(int b) {
        if (b < 1) {
            throw InvalidSettingException.about("{batch_size} must be at least 1, got " + b);
        }
        this.batchSize = b;
        return this;
    }

    /** Use only the first n training samples (0 = all). */
    public ForgetRequest trainLimit(int n) {
        if (n < 0) {
            throw InvalidSettingException.about("{train_limit} must not be negative, got " + n);
        }
        this.trainLimit = n;
        return this;
    }

    /** Reuse a stored importance over the full training set (from an earlier run) instead of computing it. */
    public ForgetRequest importanceFull(Path file) {
        this.importanceFull = file;
        return this;
    }

    /**
     * The old name of {@link #importanceFull}: the file holds the importance over the full training set, not
     * over the retain set.
     */
    @Deprecated
    public ForgetRequest retainImportance(Path file) {
        return importanceFull(file);
    }

    /** Write importance_full.safetensors and importance_forget.safetensors into this directory. */
    public ForgetRequest saveImportances(Path dir) {
        this.saveImportances = dir;
        return this;
    }

    /** Measure accuracies and MIA before and after (two extra passes over the data each). */
    public ForgetRequest evaluate(boolean on) {
        this.evaluate = on;
        return this;
    }

    public ForgetRequest evalBatchSize(int b) {
        if (b < 1) {
            throw new InvalidSettingException("evaluation batch size must be at least 1");
        }
        this.evalBatchSize = b;
        return this;
    }

    /** Seed of shuffling, LoRA initialisation, retraining and hold-out splits. */
    public ForgetRequest seed(long s) {
        this.seed = s;
        return this;
    }

    /** Checks what needs neither model nor data (the settings record checked its own fields when it was made). */
    public void validate() {
        method.estimator(estimator);
        if (!method.settingsType().isInstance(settings)) {
            throw new InvalidSettingException(method.id() + " takes " + method.settingsType().getSimpleName()
                    + " settings, not " + settings.getClass().getSimpleName());
        }
        // Methods that are nothing but training: zero epochs would return the model unchanged as if it had forgotten.
        if (method.trainsOnly() && settings.training() != null && settings.training().epochs() == 0) {
            throw InvalidSettingException.about("{epochs} must be at least 1 for " + method.id());
        }
    }

    /** The settings that apply to this request's method, defaults resolved, for reports. */
    public Map<String, Object> describeSettings() {
        Map<String, Object> m = settings.describe();
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        if (method.usesImportances()) {
            out.put("estimator", estimator().id());
            out.put("batch_size", batchSize);
        }
        out.putAll(m);
        if (settings.training() != null) {
            out.put("seed", seed);
        }
        return out;
    }

    // ---- accessors ---------------------------------------------------------------------------------

    public String data() {
        return data;
    }

    public ForgetSet forgetSet() {
        return forgetSet;
    }

    public Method method() {
        return method;
    }

    public MethodSettings settings() {
        return settings;
    }

    /** The estimator, the method's default resolved (null for methods that compute no importance). */
    public Estimator estimator() {
        return method.estimator(estimator);
    }

    public int batchSize() {
        return batchSize;
    }

    public int trainLimit() {
        return trainLimit;
    }

    public Path importanceFull() {
        return importanceFull;
    }

    public Path saveImportances() {
        return saveImportances;
    }

    public boolean evaluate() {
        return evaluate;
    }

    public int evalBatchSize() {
        return evalBatchSize;
    }

    public long seed() {
        return seed;
    }
}
