package ai.lethe;

import java.nio.file.Path;
import java.util.Objects;

import ai.lethe.data.ForgetSet;
import ai.lethe.importance.Estimator;
import ai.lethe.method.Method;
import ai.lethe.method.SsdDampening;

/**
 * What to forget and how. Defaults: SSD, α = 10, λ = 1, batch size 64, the method's own estimator,
 * before/after evaluation on.
 *
 * <pre>{@code
 * ForgetRequest.of("fashion-mnist", ForgetSet.classes(1)).method(Method.LFSSD).alpha(2).trainLimit(10_000)
 * }</pre>
 */
public final class ForgetRequest {

    private final String data;
    private final ForgetSet forgetSet;
    private Method method = Method.SSD;
    private Estimator estimator;
    private float alpha = 10f;
    private float lambda = 1f;
    private int batchSize = 64;
    private int trainLimit;
    private Path retainImportance;
    private Path saveImportances;
    private boolean evaluate = true;
    private int evalBatchSize = 256;

    private ForgetRequest(String data, ForgetSet forgetSet) {
        this.data = Objects.requireNonNull(data, "data");
        this.forgetSet = Objects.requireNonNull(forgetSet, "forget set");
    }

    /** Forget {@code forgetSet} of the training split of {@code data} (see {@link ai.lethe.data.DataSource#open}). */
    public static ForgetRequest of(String data, ForgetSet forgetSet) {
        return new ForgetRequest(data, forgetSet);
    }

    public ForgetRequest method(Method m) {
        this.method = Objects.requireNonNull(m);
        return this;
    }

    /** Importance estimator; null = the method's default (batch for SSD, label-free for LFSSD). */
    public ForgetRequest estimator(Estimator e) {
        this.estimator = e;
        return this;
    }

    /** Selection threshold: parameters with I_f > α·I_D are dampened. */
    public ForgetRequest alpha(double a) {
        this.alpha = (float) a;
        return this;
    }

    /** Dampening strength: factor min(λ·I_D/I_f, 1). */
    public ForgetRequest lambda(double l) {
        this.lambda = (float) l;
        return this;
    }

    public ForgetRequest batchSize(int b) {
        if (b < 1) {
            throw new IllegalArgumentException("--batch-size must be at least 1, got " + b);
        }
        this.batchSize = b;
        return this;
    }

    /** Use only the first n training samples (0 = all). */
    public ForgetRequest trainLimit(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("--train-limit must not be negative, got " + n);
        }
        this.trainLimit = n;
        return this;
    }

    /** Reuse a stored importance over the full training set (from an earlier run) instead of computing it. */
    public ForgetRequest retainImportance(Path file) {
        this.retainImportance = file;
        return this;
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
            throw new IllegalArgumentException("evaluation batch size must be at least 1");
        }
        this.evalBatchSize = b;
        return this;
    }

    /** Checks the settings that need neither model nor data; throws IllegalArgumentException with the reason. */
    public void validate() {
        SsdDampening.validate(alpha, lambda);
        method.estimator(estimator);
    }

    public String data() {
        return data;
    }

    public ForgetSet forgetSet() {
        return forgetSet;
    }

    public Method method() {
        return method;
    }

    public Estimator estimator() {
        return method.estimator(estimator);
    }

    public float alpha() {
        return alpha;
    }

    public float lambda() {
        return lambda;
    }

    public int batchSize() {
        return batchSize;
    }

    public int trainLimit() {
        return trainLimit;
    }

    public Path retainImportance() {
        return retainImportance;
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
}
