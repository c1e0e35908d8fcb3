package ai.lethe;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

import ai.lethe.data.ForgetSet;
import ai.lethe.importance.Estimator;
import ai.lethe.method.Method;
import ai.lethe.method.SsdDampening;

/**
 * What to forget and how. Every setting has a default; method-specific ones (left null) take the method's
 * own default, which {@link #settings()} reports.
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
    private int batchSize = 64;
    private int trainLimit;
    private Path retainImportance;
    private Path saveImportances;
    private boolean evaluate = true;
    private int evalBatchSize = 256;
    // SSD / LFSSD
    private float alpha = 10f;
    private float lambda = 1f;
    private boolean alphaAuto;
    private Double targetForgetAcc;
    private double maxRetainDrop = 0.02;
    private double holdoutFraction = 0.2;
    private Path referenceModel;
    // Mnemonic
    private float lambda1 = 1e-3f;
    private float lambda2 = 10f;
    private Path codes;
    // DeepClean
    private Float gamma;
    private Double resetFraction;
    private float epsilon = 1e-8f;
    // training-based methods and baselines
    private Integer epochs;
    private Float lr;
    private int trainBatchSize = 128;
    private float momentum = 0.9f;
    private Float weightDecay;
    private long seed;
    private float forgetWeight = 1f;
    // RFA
    private int rank = 4;
    private int loraLayers = 2;
    private float rfaBeta = 1f;
    private String rfaShift = "mean-other";
    private float rfaShiftScale = 1f;
    private float ceWeight = 1f;

    private ForgetRequest(String data, ForgetSet forgetSet) {
        this.data = Objects.requireNonNull(data, "data");
        this.forgetSet = Objects.requireNonNull(forgetSet, "forget set");
    }

    /** Forget {@code forgetSet} of the training split of {@code data} (see {@link ai.lethe.data.DataSource#open}). */
    public static ForgetRequest of(String data, ForgetSet forgetSet) {
        return new ForgetRequest(data, forgetSet);
    }

    // ---- common ---------------------------------------------------------------------------------

    public ForgetRequest method(Method m) {
        this.method = Objects.requireNonNull(m);
        return this;
    }

    /** Importance estimator of SSD/LFSSD/DeepClean; null = the method's default. */
    public ForgetRequest estimator(Estimator e) {
        this.estimator = e;
        return this;
    }

    /** Batch size of the importance passes (default 64). */
    public ForgetRequest batchSize(int b) {
        if (b < 1) {
            throw new ai.lethe.InvalidSettingException("--batch-size must be at least 1, got " + b);
        }
        this.batchSize = b;
        return this;
    }

    /** Use only the first n training samples (0 = all). */
    public ForgetRequest trainLimit(int n) {
        if (n < 0) {
            throw new ai.lethe.InvalidSettingException("--train-limit must not be negative, got " + n);
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
            throw new ai.lethe.InvalidSettingException("evaluation batch size must be at least 1");
        }
        this.evalBatchSize = b;
        return this;
    }

    // ---- SSD / LFSSD ----------------------------------------------------------------------------

    /** Selection threshold: parameters with I_f > α·I_D are dampened (default 10). */
    public ForgetRequest alpha(double a) {
        this.alpha = (float) a;
        return this;
    }

    /** Dampening strength: factor min(λ·I_D/I_f, 1) (default 1). */
    public ForgetRequest lambda(double l) {
        this.lambda = (float) l;
        return this;
    }

    /**
     * Search α instead of taking it: the largest α (the smallest change) whose dampening brings the accuracy
     * on a held-out part of Df down to the target while the accuracy on a held-out part of Dr drops by at most
     * {@link #maxRetainDrop}.
     */
    public ForgetRequest alphaAuto(boolean on) {
        this.alphaAuto = on;
        return this;
    }

    /** Target forget accuracy of --alpha auto (null = the reference model's when given, else chance level). */
    public ForgetRequest targetForgetAcc(Double target) {
        this.targetForgetAcc = target;
        return this;
    }

    public ForgetRequest maxRetainDrop(double drop) {
        this.maxRetainDrop = drop;
        return this;
    }

    /** Share of Df and of Dr held out from the importance passes to judge --alpha auto (default 0.2). */
    public ForgetRequest holdoutFraction(double f) {
        this.holdoutFraction = f;
        return this;
    }

    /** A model retrained without the forget set: the target of --alpha auto and the yardstick of reports. */
    public ForgetRequest referenceModel(Path p) {
        this.referenceModel = p;
        return this;
    }

    // ---- Mnemonic -------------------------------------------------------------------------------

    /** Upper bound of the per-tensor step size α_l (default 1e-3, the paper's MNIST setting). */
    public ForgetRequest lambda1(double l) {
        this.lambda1 = (float) l;
        return this;
    }

    /** α_l ≤ λ2 / max η (default 10). */
    public ForgetRequest lambda2(double l) {
        this.lambda2 = (float) l;
        return this;
    }

    /** Codes file (default: the model's metadata, else MODEL.codes.safetensors beside it). */
    public ForgetRequest codes(Path p) {
        this.codes = p;
        return this;
    }

    // ---- DeepClean ------------------------------------------------------------------------------

    /** Reset weights with I_f / (I_r + ε) > γ. */
    public ForgetRequest gamma(Float g) {
        this.gamma = g;
        return this;
    }

    /** Reset the top fraction p of weights by I_f / (I_r + ε) (default 0.01 when no γ is given). */
    public ForgetRequest resetFraction(Double p) {
        this.resetFraction = p;
        return this;
    }

    public ForgetRequest epsilon(double e) {
        this.epsilon = (float) e;
        return this;
    }

    // ---- training ---------------------------------------------------------------------------------

    /** Epochs of the method's training (fine-tuning, LoRA, retraining); null = the method's default. */
    public ForgetRequest epochs(Integer e) {
        this.epochs = e;
        return this;
    }

    /** Learning rate of the method's training; null = the method's default. */
    public ForgetRequest lr(Float l) {
        this.lr = l;
        return this;
    }

    public ForgetRequest trainBatchSize(int b) {
        if (b < 1) {
            throw new ai.lethe.InvalidSettingException("training batch size must be at least 1, got " + b);
        }
        this.trainBatchSize = b;
        return this;
    }

    public ForgetRequest momentum(double m) {
        this.momentum = (float) m;
        return this;
    }

    /** Weight decay of the method's training; null = the method's default. */
    public ForgetRequest weightDecay(Float wd) {
        this.weightDecay = wd;
        return this;
    }

    /** Seed of shuffling, LoRA initialisation, retraining and hold-out splits. */
    public ForgetRequest seed(long s) {
        this.seed = s;
        return this;
    }

    /** NegGrad: weight γ of the ascent term on Df against the descent term on Dr (default 1). */
    public ForgetRequest forgetWeight(double w) {
        this.forgetWeight = (float) w;
        return this;
    }

    // ---- RFA --------------------------------------------------------------------------------------

    public ForgetRequest rank(int r) {
        this.rank = r;
        return this;
    }

    /** LoRA on the last k linear/convolutional layers (default 2). */
    public ForgetRequest loraLayers(int k) {
        this.loraLayers = k;
        return this;
    }

    /** Weight β of the shift term on Df (default 1). */
    public ForgetRequest rfaBeta(double b) {
        this.rfaBeta = (float) b;
        return this;
    }

    /** Where Df's features are pushed: mean-other (towards the mean feature of the other classes) or random. */
    public ForgetRequest rfaShift(String s) {
        this.rfaShift = s;
        return this;
    }

    /** How far: the target residual is scale·(μ_other − F) (or a random direction of norm scale·‖F‖). */
    public ForgetRequest rfaShiftScale(double s) {
        this.rfaShiftScale = (float) s;
        return this;
    }

    /** Weight of the cross-entropy term on Dr (default 1). */
    public ForgetRequest ceWeight(double w) {
        this.ceWeight = (float) w;
        return this;
    }

    /** Checks the settings that need neither model nor data; throws IllegalArgumentException with the reason. */
    public void validate() {
        method.estimator(estimator);
        if (method == Method.SSD || method == Method.LFSSD) {
            if (!alphaAuto) {
                SsdDampening.validate(alpha, lambda);
            } else {
                SsdDampening.validate(1f, lambda);
                if (!(holdoutFraction > 0 && holdoutFraction < 0.9)) {
                    throw new ai.lethe.InvalidSettingException("hold-out fraction must be within (0, 0.9), got " + holdoutFraction);
                }
                if (!(maxRetainDrop >= 0 && maxRetainDrop <= 1)) {
                    throw new ai.lethe.InvalidSettingException("--max-retain-drop must be within [0, 1], got " + maxRetainDrop);
                }
                if (targetForgetAcc != null && !(targetForgetAcc >= 0 && targetForgetAcc <= 1)) {
                    throw new ai.lethe.InvalidSettingException("--target-forget-acc must be within [0, 1], got " + targetForgetAcc);
                }
            }
        }
        if (method == Method.MNEMONIC && (!(lambda1 > 0) || !(lambda2 > 0))) {
            throw new ai.lethe.InvalidSettingException("--lambda1 and --lambda2 must be positive");
        }
        if (method == Method.DEEPCLEAN) {
            if (gamma != null && resetFraction != null) {
                throw new ai.lethe.InvalidSettingException("give --gamma or --reset-fraction, not both");
            }
            if (resetFraction != null && !(resetFraction > 0 && resetFraction < 1)) {
                throw new ai.lethe.InvalidSettingException("--reset-fraction must be within (0, 1), got " + resetFraction);
            }
            if (!(epsilon > 0)) {
                throw new ai.lethe.InvalidSettingException("--epsilon must be positive");
            }
            if (gamma != null && !(gamma > 0 && Float.isFinite(gamma))) {
                throw new ai.lethe.InvalidSettingException("--gamma must be a positive number, got " + gamma);
            }
        }
        if (epochs != null && epochs < 0) {
            throw new ai.lethe.InvalidSettingException("--epochs must not be negative");
        }
        // Methods that are nothing but training: zero epochs would return the model unchanged as if it had forgotten.
        if (epochs != null && epochs == 0 && (method == Method.FINETUNE || method == Method.NEGGRAD || method == Method.RETRAIN
                || method == Method.RFA)) {
            throw new ai.lethe.InvalidSettingException("--epochs must be at least 1 for " + method.id());
        }
        if (method == Method.NEGGRAD && !(forgetWeight > 0 && Float.isFinite(forgetWeight))) {
            throw new ai.lethe.InvalidSettingException("--forget-weight must be a positive number, got " + forgetWeight);
        }
        if (lr != null && !(lr > 0 && Float.isFinite(lr))) {
            throw new ai.lethe.InvalidSettingException("--lr must be positive");
        }
        if (method == Method.RFA) {
            if (rank < 1 || loraLayers < 1) {
                throw new ai.lethe.InvalidSettingException("--rank and --lora-layers must be at least 1");
            }
            if (!(rfaBeta >= 0 && Float.isFinite(rfaBeta))) {
                throw new ai.lethe.InvalidSettingException("--rfa-beta must be a non-negative number, got " + rfaBeta);
            }
            if (!(rfaShiftScale >= 0 && Float.isFinite(rfaShiftScale))) {
                throw new ai.lethe.InvalidSettingException("--rfa-shift-scale must be a non-negative number, got " + rfaShiftScale);
            }
            if (!(ceWeight >= 0 && Float.isFinite(ceWeight))) {
                throw new ai.lethe.InvalidSettingException("the RFA cross-entropy weight must be a non-negative number, got "
                        + ceWeight);
            }
            if (!rfaShift.equals("mean-other") && !rfaShift.equals("random")) {
                throw new ai.lethe.InvalidSettingException("--rfa-shift must be mean-other or random, got '" + rfaShift + "'");
            }
        }
    }

    /** The settings that apply to this request's method, defaults resolved, for reports. */
    public Map<String, Object> settings() {
        Map<String, Object> m = new LinkedHashMap<>() {
            @Override
            public Object put(String k, Object v) {
                // floats print as their shortest decimal (1e-3, not 0.0010000000474974513)
                return super.put(k, v instanceof Float f ? Double.valueOf(Float.toString(f)) : v);
            }
        };
        switch (method) {
            case SSD, LFSSD -> {
                m.put("estimator", estimator().id());
                m.put("batch_size", batchSize);
                m.put("alpha", alphaAuto ? "auto" : alpha);
                m.put("lambda", lambda);
                if (alphaAuto) {
                    m.put("target_forget_acc", targetForgetAcc != null ? targetForgetAcc
                            : referenceModel != null ? "the reference model's" : "chance level");
                    m.put("max_retain_drop", maxRetainDrop);
                    m.put("holdout_fraction", holdoutFraction);
                }
            }
            case MNEMONIC -> {
                m.put("lambda1", lambda1);
                m.put("lambda2", lambda2);
            }
            case DEEPCLEAN -> {
                m.put("estimator", estimator().id());
                m.put("batch_size", batchSize);
                if (gamma != null) {
                    m.put("gamma", gamma);
                } else {
                    m.put("reset_fraction", resetFraction());
                }
                m.put("epsilon", epsilon);
            }
            case RFA -> {
                m.put("rank", rank);
                m.put("lora_layers", loraLayers);
                m.put("beta", rfaBeta);
                m.put("shift", rfaShift);
                m.put("shift_scale", rfaShiftScale);
                m.put("ce_weight", ceWeight);
            }
            case NEGGRAD -> m.put("forget_weight", forgetWeight);
            default -> { }
        }
        if (method != Method.SSD && method != Method.LFSSD && method != Method.MNEMONIC) {
            m.put("epochs", epochs());
            m.put("lr", lr());
            m.put("train_batch_size", trainBatchSize);
            m.put("momentum", momentum);
            m.put("weight_decay", weightDecay());
            m.put("seed", seed);
        }
        return m;
    }

    // ---- accessors (defaults resolved per method) ----------------------------------------------

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

    public float alpha() {
        return alpha;
    }

    public float lambda() {
        return lambda;
    }

    public boolean alphaAuto() {
        return alphaAuto;
    }

    public Double targetForgetAcc() {
        return targetForgetAcc;
    }

    public double maxRetainDrop() {
        return maxRetainDrop;
    }

    public double holdoutFraction() {
        return holdoutFraction;
    }

    public Path referenceModel() {
        return referenceModel;
    }

    public float lambda1() {
        return lambda1;
    }

    public float lambda2() {
        return lambda2;
    }

    public Path codes() {
        return codes;
    }

    public Float gamma() {
        return gamma;
    }

    public double resetFraction() {
        return resetFraction != null ? resetFraction : 0.01;
    }

    public float epsilon() {
        return epsilon;
    }

    public int epochs() {
        if (epochs != null) {
            return epochs;
        }
        return switch (method) {
            case DEEPCLEAN, NEGGRAD -> 1;
            case FINETUNE -> 2;
            case RFA -> 3;
            case RETRAIN -> 5;
            default -> 0;
        };
    }

    public float lr() {
        if (lr != null) {
            return lr;
        }
        return switch (method) {
            case RETRAIN -> 0.05f;
            case NEGGRAD -> 0.001f; // 0.005 collapsed a 5-epoch MLP to one class within an epoch
            default -> 0.01f;
        };
    }

    public int trainBatchSize() {
        return trainBatchSize;
    }

    public float momentum() {
        return momentum;
    }

    public float weightDecay() {
        if (weightDecay != null) {
            return weightDecay;
        }
        // DeepClean fine-tunes weights it has just reset to zero; decay would only pull them back there.
        return method == Method.DEEPCLEAN ? 0f : 5e-4f;
    }

    public long seed() {
        return seed;
    }

    public float forgetWeight() {
        return forgetWeight;
    }

    public int rank() {
        return rank;
    }

    public int loraLayers() {
        return loraLayers;
    }

    public float rfaBeta() {
        return rfaBeta;
    }

    public String rfaShift() {
        return rfaShift;
    }

    public float rfaShiftScale() {
        return rfaShiftScale;
    }

    public float ceWeight() {
        return ceWeight;
    }
}
