package ai.lethe.method;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.lethe.InvalidSettingException;

/**
 * The settings of one method family, as a record: it holds its defaults (see {@link Method#defaults()}), checks
 * itself in its constructor with messages in the domain's terms (fields named as {@code {field}}, which the
 * CLI renders as its options and the service as its JSON fields), and describes itself for the report.
 * Each record component carries a {@link Setting}, from which the CLI options, the service's request schema and
 * the OpenAPI document are generated.
 */
public sealed interface MethodSettings {

    /** The settings as the report shows them: resolved values, in a stable order. */
    Map<String, Object> describe();

    /** Fields that these particular values leave unread (SSD's search settings without {@code alpha = auto}). */
    default List<String> unusedFields() {
        return List.of();
    }

    /** The training part of these settings; null for a method that does not train. */
    default Training training() {
        return null;
    }

    /** These settings with one field replaced (by its snake-case name), checked again. */
    default MethodSettings with(String field, Object value) {
        Map<String, Object> m = new HashMap<>();
        m.put(field, value);
        return (MethodSettings) SettingField.with((Record) this, m);
    }

    /** The fields of these settings, nested records flattened. */
    @SuppressWarnings("unchecked")
    default List<SettingField> fields() {
        return SettingField.of((Class<? extends Record>) getClass());
    }

    // ---- the families ------------------------------------------------------------------------------

    /** SSD and LFSSD: the dampening threshold and strength, and the search of alpha when it is {@code auto}. */
    record Ssd(
            @Setting(doc = "Selection threshold: dampen parameters with I_f > A*I_D (smaller forgets more), or 'auto' to"
                    + " search it on held-out parts of Df and Dr", label = "A", minimum = 0, exclusiveMinimum = true,
                    auto = true) Double alpha,
            @Setting(doc = "Dampening strength: multiply by min(L*I_D/I_f, 1)", label = "L", minimum = 0,
                    exclusiveMinimum = true) float lambda,
            @Setting(doc = "alpha auto (lambda1 auto for mnemonic): held-out forget accuracy to reach", label = "T", minimum = 0, maximum = 1,
                    whenAbsent = "the reference model's, else chance level") Double targetForgetAcc,
            @Setting(doc = "alpha auto (lambda1 auto for mnemonic): largest allowed drop of held-out retain accuracy", label = "D", minimum = 0,
                    maximum = 1) double maxRetainDrop,
            @Setting(doc = "alpha auto (lambda1 auto for mnemonic): share of Df and of Dr held out (from the importance"
                    + " passes) to judge each candidate",
                    label = "F", minimum = 0, exclusiveMinimum = true, maximum = 0.9, exclusiveMaximum = true)
            double holdoutFraction,
            @Setting(doc = "A model retrained without the forget set: alpha auto (lambda1 auto) aims at its forget accuracy",
                    label = "M") Path referenceModel) implements MethodSettings {

        public static final Ssd DEFAULTS = new Ssd(10.0, 1f, null, 0.02, 0.2, null);

        public Ssd {
            if (alpha != null && !(alpha > 0 && Double.isFinite(alpha))) {
                throw InvalidSettingException.about("{alpha} must be a positive number, got " + num(alpha));
            }
            if (!(lambda > 0) || !Float.isFinite(lambda)) {
                throw InvalidSettingException.about("{lambda} must be a positive number, got " + num(lambda));
            }
            validateSearch(targetForgetAcc, maxRetainDrop, holdoutFraction);
        }

        /** alpha is searched rather than given. */
        public boolean alphaAuto() {
            return alpha == null;
        }

        public Ssd withAlpha(double a) {
            return new Ssd(a, lambda, targetForgetAcc, maxRetainDrop, holdoutFraction, referenceModel);
        }

        public Ssd withAlphaAuto() {
            return new Ssd(null, lambda, targetForgetAcc, maxRetainDrop, holdoutFraction, referenceModel);
        }

        public Ssd withLambda(double l) {
            return new Ssd(alpha, (float) l, targetForgetAcc, maxRetainDrop, holdoutFraction, referenceModel);
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> m = report();
            m.put("alpha", alphaAuto() ? "auto" : alpha);
            m.put("lambda", lambda);
            if (alphaAuto()) {
                m.put("target_forget_acc", targetForgetAcc != null ? targetForgetAcc
                        : referenceModel != null ? "the reference model's" : "chance level");
                m.put("max_retain_drop", maxRetainDrop);
                m.put("holdout_fraction", holdoutFraction);
            }
            return m;
        }

        @Override
        public List<String> unusedFields() {
            return alphaAuto() ? List.of() : List.of("target_forget_acc", "max_retain_drop", "holdout_fraction", "reference_model");
        }
    }

    /**
     * Mnemonic-code unlearning: the bounds of the per-tensor step size (lambda1 searched on held-out parts of Df and
     * Dr when it is {@code auto}, with the same search settings as SSD's alpha), and where the codes are.
     */
    record Mnemonic(
            @Setting(doc = "Cap of the per-tensor step alpha_l (the paper uses 1e-5 for CIFAR-10), or 'auto' to search it on"
                    + " held-out parts of Df and Dr", label = "L1", minimum = 0, exclusiveMinimum = true, auto = true) Float lambda1,
            @Setting(doc = "alpha_l <= L2 / max eta (the paper uses 1e4 for CIFAR-10)", label = "L2", minimum = 0,
                    exclusiveMinimum = true) float lambda2,
            @Setting(doc = "The codes file", label = "FILE",
                    whenAbsent = "the model's metadata, else MODEL.codes.safetensors beside it") Path codes,
            @Setting(doc = "lambda1 auto: held-out forget accuracy to reach", label = "T", minimum = 0, maximum = 1,
                    whenAbsent = "the reference model's, else " + Mnemonic.DEFAULT_TARGET) Double targetForgetAcc,
            @Setting(doc = "lambda1 auto: largest allowed drop of held-out retain accuracy", label = "D", minimum = 0,
                    maximum = 1) double maxRetainDrop,
            @Setting(doc = "lambda1 auto: share of Df and of Dr (at most 2,000 each) sampled to judge each lambda1",
                    label = "F", minimum = 0, exclusiveMinimum = true, maximum = 0.9, exclusiveMaximum = true)
            double holdoutFraction,
            @Setting(doc = "A model retrained without the forget set: lambda1 auto aims at its forget accuracy",
                    label = "M") Path referenceModel,
            @Setting(doc = "Weights that no retained class's code reaches (zero gradient on every one, as behind a ReLU"
                    + " that is off for all of them): keep leaves them unchanged, shift moves them as the reference code"
                    + " does (by up to lambda2, from an eta that only the Fisher's 1e-16 start bounds)",
                    option = "--mnemonic-unreached", label = "U", values = {"keep", "shift"}) String unreached,
            @Setting(doc = "Which parameters the update moves: all (as the paper) or head (the last layer's weight and bias:"
                    + " on the zoo cnn the hidden layers' Fisher, from one code per class, moves weights the retained"
                    + " classes' images use)", option = "--mnemonic-scope", label = "S", values = {"all", "head"}) String scope)
            implements MethodSettings {

        /**
         * The target of lambda1 auto without a reference model: a whole class is forgotten, and a model that never
         * saw a class all but never predicts it (retraining scores 0% on it), so chance level would stop too early.
         */
        public static final double DEFAULT_TARGET = 0.01;

        public static final Mnemonic DEFAULTS = new Mnemonic(1e-3f, 10f, null, null, 0.02, 0.2, null, "keep", "all");

        public Mnemonic {
            if (lambda1 != null && (!(lambda1 > 0) || !Float.isFinite(lambda1)) || !(lambda2 > 0) || !Float.isFinite(lambda2)) {
                throw InvalidSettingException.about("{lambda1} and {lambda2} must be positive numbers, got " + num(lambda1)
                        + " and " + num(lambda2));
            }
            validateSearch(targetForgetAcc, maxRetainDrop, holdoutFraction);
            if (!"keep".equals(unreached) && !"shift".equals(unreached)) {
                throw InvalidSettingException.about("{unreached} must be keep or shift, got '" + unreached + "'");
            }
            if (!"all".equals(scope) && !"head".equals(scope)) {
                throw InvalidSettingException.about("{scope} must be all or head, got '" + scope + "'");
            }
        }

        /** Only the last layer's parameters move. */
        public boolean headOnly() {
            return "head".equals(scope);
        }

        /** Weights that no retained class's code reaches stay as they are. */
        public boolean keepUnreached() {
            return "keep".equals(unreached);
        }

        /** lambda1 is searched rather than given. */
        public boolean lambda1Auto() {
            return lambda1 == null;
        }

        public Mnemonic withLambda1(double l) {
            return new Mnemonic((float) l, lambda2, codes, targetForgetAcc, maxRetainDrop, holdoutFraction, referenceModel, unreached, scope);
        }

        public Mnemonic withLambda1Auto() {
            return new Mnemonic(null, lambda2, codes, targetForgetAcc, maxRetainDrop, holdoutFraction, referenceModel, unreached, scope);
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> m = report();
            m.put("lambda1", lambda1Auto() ? "auto" : lambda1);
            m.put("lambda2", lambda2);
            m.put("unreached", unreached);
            m.put("scope", scope);
            if (lambda1Auto()) {
                m.put("target_forget_acc", targetForgetAcc != null ? targetForgetAcc
                        : referenceModel != null ? "the reference model's" : DEFAULT_TARGET);
                m.put("max_retain_drop", maxRetainDrop);
                m.put("holdout_fraction", holdoutFraction);
            }
            return m;
        }

        @Override
        public List<String> unusedFields() {
            return lambda1Auto() ? List.of() : List.of("target_forget_acc", "max_retain_drop", "holdout_fraction", "reference_model");
        }
    }

    /** The SGD settings of every method that trains. */
    record Training(
            @Setting(doc = "Epochs of the method's training", label = "E", aliases = "--finetune-epochs", minimum = 0)
            int epochs,
            @Setting(doc = "Learning rate of the method's training", label = "LR", minimum = 0, exclusiveMinimum = true)
            float lr,
            @Setting(doc = "Batch size of the method's training", label = "B", minimum = 1) int trainBatchSize,
            @Setting(doc = "SGD momentum of the method's training", label = "M", minimum = 0, maximum = 1,
                    exclusiveMaximum = true) float momentum,
            @Setting(doc = "Weight decay of the method's training", label = "WD", minimum = 0) float weightDecay)
            implements MethodSettings {

        public Training {
            if (epochs < 0) {
                throw InvalidSettingException.about("{epochs} must not be negative, got " + epochs);
            }
            if (!(lr > 0) || !Float.isFinite(lr)) {
                throw InvalidSettingException.about("{lr} must be positive, got " + num(lr));
            }
            if (trainBatchSize < 1) {
                throw InvalidSettingException.about("{train_batch_size} must be at least 1, got " + trainBatchSize);
            }
            if (!(momentum >= 0 && momentum < 1)) {
                throw InvalidSettingException.about("{momentum} must be within [0, 1), got " + num(momentum));
            }
            if (!(weightDecay >= 0) || !Float.isFinite(weightDecay)) {
                throw InvalidSettingException.about("{weight_decay} must be a non-negative number, got " + num(weightDecay));
            }
        }

        @Override
        public Training training() {
            return this;
        }

        static Training of(int epochs, float lr) {
            return new Training(epochs, lr, 128, 0.9f, 5e-4f);
        }

        public Training withEpochs(int e) {
            return new Training(e, lr, trainBatchSize, momentum, weightDecay);
        }

        public Training withLr(double l) {
            return new Training(epochs, (float) l, trainBatchSize, momentum, weightDecay);
        }

        public Training withWeightDecay(double wd) {
            return new Training(epochs, lr, trainBatchSize, momentum, (float) wd);
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> m = report();
            m.put("epochs", epochs);
            m.put("lr", lr);
            m.put("train_batch_size", trainBatchSize);
            m.put("momentum", momentum);
            m.put("weight_decay", weightDecay);
            return m;
        }
    }

    /** DeepClean: which weights to reset (by gamma or by fraction), then the fine-tuning of only those. */
    record DeepClean(
            @Setting(doc = "Reset weights with I_f/(I_r+eps) > G", label = "G", minimum = 0, exclusiveMinimum = true,
                    whenAbsent = "the threshold of reset_fraction") Float gamma,
            @Setting(doc = "Reset the top fraction P of weights by I_f/(I_r+eps)", label = "P", minimum = 0,
                    exclusiveMinimum = true, maximum = 1, exclusiveMaximum = true, whenAbsent = "0.01 unless gamma is given")
            Double resetFraction,
            @Setting(doc = "eps of the ratio I_f/(I_r+eps)", label = "EPS", minimum = 0, exclusiveMinimum = true) float epsilon,
            Training training) implements MethodSettings {

        static final double DEFAULT_RESET_FRACTION = 0.01;

        /** Fine-tuning of the reset weights: one epoch, and no weight decay, which would only pull them back to zero. */
        public static final DeepClean DEFAULTS = new DeepClean(null, null, 1e-8f, new Training(1, 0.01f, 128, 0.9f, 0f));

        public DeepClean {
            if (gamma != null && resetFraction != null) {
                throw InvalidSettingException.about("give {gamma} or {reset_fraction}, not both");
            }
            if (resetFraction != null && !(resetFraction > 0 && resetFraction < 1)) {
                throw InvalidSettingException.about("{reset_fraction} must be within (0, 1), got " + resetFraction);
            }
            if (!(epsilon > 0) || !Float.isFinite(epsilon)) {
                throw InvalidSettingException.about("{epsilon} must be positive, got " + num(epsilon));
            }
            if (gamma != null && !(gamma > 0 && Float.isFinite(gamma))) {
                throw InvalidSettingException.about("{gamma} must be a positive number, got " + num(gamma));
            }
            java.util.Objects.requireNonNull(training, "training");
        }

        /** The fraction to reset when no gamma is given. */
        public double effectiveResetFraction() {
            return resetFraction != null ? resetFraction : DEFAULT_RESET_FRACTION;
        }

        public DeepClean withResetFraction(double p) {
            return new DeepClean(null, p, epsilon, training);
        }

        public DeepClean withTraining(Training t) {
            return new DeepClean(gamma, resetFraction, epsilon, t);
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> m = report();
            if (gamma != null) {
                m.put("gamma", gamma);
            } else {
                m.put("reset_fraction", effectiveResetFraction());
            }
            m.put("epsilon", epsilon);
            m.putAll(training.describe());
            return m;
        }
    }

    /** Residual Feature Alignment: the LoRA branches, the shift of Df's features, the loss weights, the training. */
    record Rfa(
            @Setting(doc = "LoRA rank", label = "R", minimum = 1) int rank,
            @Setting(doc = "LoRA on the last K linear/convolutional layers", label = "K", minimum = 1) int loraLayers,
            @Setting(doc = "Weight of the shift term on Df", option = "--rfa-beta", label = "B", minimum = 0) float beta,
            @Setting(doc = "Target of Df's residuals: mean-other (towards the mean feature of the other classes) or random"
                    + " (a fixed random direction)", option = "--rfa-shift", label = "S", values = {"mean-other", "random"})
            String shift,
            @Setting(doc = "How far the shift goes, as a fraction of the way to the target", option = "--rfa-shift-scale",
                    label = "K", minimum = 0) float shiftScale,
            @Setting(doc = "Weight of the cross-entropy term on Dr", option = "--rfa-ce-weight", label = "W", minimum = 0)
            float ceWeight,
            @Setting(doc = "Clip the combined gradient to this global L2 norm (0 = no clipping)", label = "N", minimum = 0)
            float maxGradNorm,
            Training training) implements MethodSettings {

        /**
         * lr 0.01 with the LoRA gradient clipped to norm 1 (as LoRA fine-tuning usually is): unclipped, the first
         * steps on a zoo cnn's fc1 (6,272 inputs) took gradient norms in the hundreds and the loss went to NaN.
         */
        public static final Rfa DEFAULTS = new Rfa(4, 2, 1f, "mean-other", 1f, 1f, 1f, Training.of(3, 0.01f));

        public Rfa {
            if (rank < 1 || loraLayers < 1) {
                throw InvalidSettingException.about("{rank} and {lora_layers} must be at least 1, got " + rank + " and "
                        + loraLayers);
            }
            if (!(beta >= 0) || !Float.isFinite(beta)) {
                throw InvalidSettingException.about("{beta} must be a non-negative number, got " + num(beta));
            }
            if (!(shiftScale >= 0) || !Float.isFinite(shiftScale)) {
                throw InvalidSettingException.about("{shift_scale} must be a non-negative number, got " + num(shiftScale));
            }
            if (!(ceWeight >= 0) || !Float.isFinite(ceWeight)) {
                throw InvalidSettingException.about("{ce_weight} must be a non-negative number, got " + num(ceWeight));
            }
            if (!(maxGradNorm >= 0) || !Float.isFinite(maxGradNorm)) {
                throw InvalidSettingException.about("{max_grad_norm} must be a non-negative number, got " + num(maxGradNorm));
            }
            if (!"mean-other".equals(shift) && !"random".equals(shift)) {
                throw InvalidSettingException.about("{shift} must be mean-other or random, got '" + shift + "'");
            }
            java.util.Objects.requireNonNull(training, "training");
        }

        public Rfa withTraining(Training t) {
            return new Rfa(rank, loraLayers, beta, shift, shiftScale, ceWeight, maxGradNorm, t);
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> m = report();
            m.put("rank", rank);
            m.put("lora_layers", loraLayers);
            m.put("beta", beta);
            m.put("shift", shift);
            m.put("shift_scale", shiftScale);
            m.put("ce_weight", ceWeight);
            m.put("max_grad_norm", maxGradNorm);
            m.putAll(training.describe());
            return m;
        }
    }

    /**
     * NegGrad: the weight of the ascent term on Df against the descent term on Dr, the safeguards that keep the
     * ascent from running away (gradient clipping, a ceiling on the forget loss, an early stop on the retain loss),
     * and the training.
     */
    record NegGrad(
            @Setting(doc = "Weight of the ascent term on Df", label = "W", minimum = 0, exclusiveMinimum = true) float forgetWeight,
            @Setting(doc = "Clip the combined gradient to this global L2 norm (0 = no clipping)", label = "N", minimum = 0)
            float maxGradNorm,
            @Setting(doc = "No ascent on a forget batch whose cross-entropy is already above this (that step only descends"
                    + " on Dr); 0 = always ascend", label = "C", minimum = 0, whenAbsent = "ln(classes) + 1")
            Float forgetLossCeiling,
            @Setting(doc = "Stop early when the retain loss (mean of the last 10 steps) exceeds its value at the start by"
                    + " this much (0 = never)", label = "R", minimum = 0) float maxRetainLossIncrease,
            Training training) implements MethodSettings {

        /**
         * lr 0.01 with the three safeguards. The unguarded ascent (lr 0.001, no ceiling, no clipping) under-forgot
         * one class of a 5-epoch MLP, collapsed it on another and diverged to NaN on the zoo cnn.
         */
        public static final NegGrad DEFAULTS = new NegGrad(1f, 1f, null, 0.5f, Training.of(1, 0.01f));

        /** How many of the last steps' retain losses the early stop averages. */
        public static final int RETAIN_LOSS_WINDOW = 10;

        public NegGrad {
            if (!(forgetWeight > 0) || !Float.isFinite(forgetWeight)) {
                throw InvalidSettingException.about("{forget_weight} must be a positive number, got " + num(forgetWeight));
            }
            if (!(maxGradNorm >= 0) || !Float.isFinite(maxGradNorm)) {
                throw InvalidSettingException.about("{max_grad_norm} must be a non-negative number, got " + num(maxGradNorm));
            }
            if (forgetLossCeiling != null && (!(forgetLossCeiling >= 0) || !Float.isFinite(forgetLossCeiling))) {
                throw InvalidSettingException.about("{forget_loss_ceiling} must be a non-negative number, got " + num(forgetLossCeiling));
            }
            if (!(maxRetainLossIncrease >= 0) || !Float.isFinite(maxRetainLossIncrease)) {
                throw InvalidSettingException.about("{max_retain_loss_increase} must be a non-negative number, got "
                        + num(maxRetainLossIncrease));
            }
            java.util.Objects.requireNonNull(training, "training");
        }

        /** The ceiling on the forget batch's loss for a model of {@code classes} classes (0 = none). */
        public double forgetLossCeiling(int classes) {
            return forgetLossCeiling != null ? forgetLossCeiling : Math.log(classes) + 1;
        }

        public NegGrad withTraining(Training t) {
            return new NegGrad(forgetWeight, maxGradNorm, forgetLossCeiling, maxRetainLossIncrease, t);
        }

        /** The unguarded baseline: no clipping, no ceiling, no early stop. */
        public NegGrad unguarded() {
            return new NegGrad(forgetWeight, 0f, 0f, 0f, training);
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> m = report();
            m.put("forget_weight", forgetWeight);
            m.put("max_grad_norm", maxGradNorm);
            m.put("forget_loss_ceiling", forgetLossCeiling != null ? forgetLossCeiling : "ln(classes) + 1");
            m.put("max_retain_loss_increase", maxRetainLossIncrease);
            m.putAll(training.describe());
            return m;
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------

    /** A report map in which floats print as their shortest decimal (1e-3, not 0.0010000000474974513). */
    static Map<String, Object> report() {
        return new LinkedHashMap<>() {
            @Override
            public Object put(String k, Object v) {
                return super.put(k, v instanceof Float f ? Double.valueOf(Float.toString(f)) : v);
            }

            @Override
            public void putAll(Map<? extends String, ?> m) {
                m.forEach(this::put);
            }
        };
    }

    /** A number as the user wrote it (floats without their binary tail). */
    /** The settings of a held-out strength search (SSD's alpha auto, Mnemonic's lambda1 auto), checked alike. */
    private static void validateSearch(Double targetForgetAcc, double maxRetainDrop, double holdoutFraction) {
        if (!(holdoutFraction > 0 && holdoutFraction < 0.9)) {
            throw InvalidSettingException.about("{holdout_fraction} must be within (0, 0.9), got " + holdoutFraction);
        }
        if (!(maxRetainDrop >= 0 && maxRetainDrop <= 1)) {
            throw InvalidSettingException.about("{max_retain_drop} must be within [0, 1], got " + maxRetainDrop);
        }
        if (targetForgetAcc != null && !(targetForgetAcc >= 0 && targetForgetAcc <= 1)) {
            throw InvalidSettingException.about("{target_forget_acc} must be within [0, 1], got " + targetForgetAcc);
        }
    }

    private static String num(Number n) {
        return n instanceof Float f ? Float.toString(f) : String.valueOf(n);
    }
}
