package ai.lethe.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import ai.lethe.ForgetRequest;
import ai.lethe.importance.Estimator;
import ai.lethe.method.Method;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The method and its settings, shared by {@code forget} and {@code profile} so both accept exactly the same run. */
final class MethodOptions {

    @Option(names = "--method", paramLabel = "METHOD", defaultValue = "ssd", converter = Converters.MethodConverter.class,
            description = "ssd, lfssd, mnemonic, deepclean, rfa, finetune, neggrad or retrain (default: ${DEFAULT-VALUE}).")
    Method method;

    @Option(names = "--alpha", paramLabel = "A", defaultValue = "10",
            description = "SSD/LFSSD selection threshold: dampen parameters with I_f > A*I_D (default: ${DEFAULT-VALUE}; smaller forgets more), or 'auto' to search it on held-out parts of Df and Dr.")
    String alpha;

    @Option(names = "--target-forget-acc", paramLabel = "T",
            description = "--alpha auto: held-out forget accuracy to reach (default: the --reference-model's, else chance level).")
    Double targetForgetAcc;

    @Option(names = "--max-retain-drop", paramLabel = "D", defaultValue = "0.02",
            description = "--alpha auto: largest allowed drop of held-out retain accuracy (default: ${DEFAULT-VALUE}).")
    double maxRetainDrop;

    @Option(names = "--reference-model", paramLabel = "M",
            description = "A model retrained without the forget set: --alpha auto aims at its forget accuracy.")
    Path referenceModel;

    @Option(names = "--lambda1", paramLabel = "L1", defaultValue = "1e-3",
            description = "mnemonic: cap of the per-tensor step alpha_l (default: ${DEFAULT-VALUE}; the paper uses 1e-5 for CIFAR-10).")
    double lambda1;

    @Option(names = "--lambda2", paramLabel = "L2", defaultValue = "10",
            description = "mnemonic: alpha_l <= L2 / max eta (default: ${DEFAULT-VALUE}; the paper uses 1e4 for CIFAR-10).")
    double lambda2;

    @Option(names = "--codes", paramLabel = "FILE",
            description = "mnemonic: the codes file (default: the model's metadata, else MODEL.codes.safetensors beside it).")
    Path codes;

    @Option(names = "--gamma", paramLabel = "G", description = "deepclean: reset weights with I_f/(I_r+eps) > G.")
    Float gamma;

    @Option(names = "--reset-fraction", paramLabel = "P",
            description = "deepclean: reset the top fraction P of weights by I_f/(I_r+eps) (default: 0.01 unless --gamma is given).")
    Double resetFraction;

    @Option(names = "--epochs", paramLabel = "E",
            description = "Epochs of the method's training: deepclean fine-tuning (default 1), rfa (3), finetune (2), neggrad (1), retrain (5).")
    Integer epochs;

    @Option(names = "--finetune-epochs", paramLabel = "E", description = "Same as --epochs (DeepClean's name for it).")
    Integer finetuneEpochs;

    @Option(names = "--lr", paramLabel = "LR", description = "Learning rate of the method's training (default 0.01; neggrad 0.001, retrain 0.05).")
    Float lr;

    @Option(names = "--train-batch-size", paramLabel = "B", defaultValue = "128",
            description = "Batch size of the method's training (default: ${DEFAULT-VALUE}).")
    int trainBatchSize;

    @Option(names = "--forget-weight", paramLabel = "W", defaultValue = "1",
            description = "neggrad: weight of the ascent term on Df (default: ${DEFAULT-VALUE}).")
    double forgetWeight;

    @Option(names = "--rank", paramLabel = "R", defaultValue = "4", description = "rfa: LoRA rank (default: ${DEFAULT-VALUE}).")
    int rank;

    @Option(names = "--lora-layers", paramLabel = "K", defaultValue = "2",
            description = "rfa: LoRA on the last K linear/convolutional layers (default: ${DEFAULT-VALUE}).")
    int loraLayers;

    @Option(names = "--rfa-beta", paramLabel = "B", defaultValue = "1",
            description = "rfa: weight of the shift term on Df (default: ${DEFAULT-VALUE}).")
    double rfaBeta;

    @Option(names = "--rfa-shift", paramLabel = "S", defaultValue = "mean-other",
            description = "rfa: target of Df's residuals: mean-other (towards the mean feature of the other classes) or random (a fixed random direction) (default: ${DEFAULT-VALUE}).")
    String rfaShift;

    @Option(names = "--rfa-shift-scale", paramLabel = "K", defaultValue = "1",
            description = "rfa: how far the shift goes, as a fraction of the way to the target (default: ${DEFAULT-VALUE}).")
    double rfaShiftScale;

    @Option(names = "--lambda", paramLabel = "L", defaultValue = "1",
            description = "Dampening strength: multiply by min(L*I_D/I_f, 1) (default: ${DEFAULT-VALUE}).")
    double lambda;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "64",
            description = "Batch size of the importance passes (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--estimator", paramLabel = "E", converter = Converters.EstimatorConverter.class,
            description = "Importance estimator: batch (SSD reference), per-sample (exact empirical Fisher) or label-free (LFSSD). Default: the method's own.")
    Estimator estimator;

    @Option(names = "--retain-importance", paramLabel = "I.safetensors",
            description = "Reuse a stored importance over the full training set (from 'lethe fisher --subset full' or --save-importances) instead of computing it; refused if it belongs to another model or other settings.")
    Path retainImportance;

    @Option(names = "--save-importances", paramLabel = "DIR",
            description = "Also write the importances computed: DIR/importance_full.safetensors (I_D; deepclean: importance_retain.safetensors, I_r) and DIR/importance_forget.safetensors (I_f).")
    Path saveImportances;

    @Option(names = "--no-eval", description = "Skip the before/after evaluation (faster).")
    boolean noEval;

    /** Registers the files these options read and write. */
    CliOutput.Paths paths(CliOutput.Paths paths) {
        paths.input("--reference-model", referenceModel).input("--codes", codes).input("--retain-importance", retainImportance);
        if (saveImportances != null) {
            // Saving a reused I_D again over itself is harmless (it was read in full first), so only a fresh one counts.
            String first = method == Method.DEEPCLEAN ? "importance_retain.safetensors" : "importance_full.safetensors";
            paths.output("--save-importances", retainImportance != null ? null : saveImportances.resolve(first))
                    .output("--save-importances", saveImportances.resolve("importance_forget.safetensors"));
        }
        return paths;
    }

    /** The request these options (with the data and forget set) describe, validated; a usage error otherwise. */
    ForgetRequest request(CommandLine cmd, DataOptions data, ForgetSetOptions forget) throws java.io.IOException {
        try {
            boolean auto = alpha.strip().equalsIgnoreCase("auto");
            ForgetRequest request = ForgetRequest.of(data.data, forget.required(cmd)).method(method).estimator(estimator)
                    .alpha(auto ? 10 : parseAlpha(alpha)).alphaAuto(auto).targetForgetAcc(targetForgetAcc).maxRetainDrop(maxRetainDrop)
                    .referenceModel(referenceModel).lambda(lambda).batchSize(batchSize).trainLimit(data.trainLimit)
                    .retainImportance(retainImportance).saveImportances(saveImportances).evaluate(!noEval)
                    .lambda1(lambda1).lambda2(lambda2).codes(codes).gamma(gamma).resetFraction(resetFraction)
                    .epochs(finetuneEpochs != null ? finetuneEpochs : epochs).lr(lr).trainBatchSize(trainBatchSize).seed(forget.seed)
                    .forgetWeight(forgetWeight).rank(rank).loraLayers(loraLayers).rfaBeta(rfaBeta).rfaShift(rfaShift)
                    .rfaShiftScale(rfaShiftScale);
            request.validate();
            noteIgnoredOptions(cmd, method, auto);
            return request;
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, e.getMessage());
        }
    }

    /** The options that only some methods read, and those methods. */
    private static final java.util.Map<String, java.util.Set<Method>> METHOD_OPTIONS = methodOptions();

    private static java.util.Map<String, java.util.Set<Method>> methodOptions() {
        java.util.Map<String, java.util.Set<Method>> m = new java.util.LinkedHashMap<>();
        java.util.Set<Method> ssd = java.util.EnumSet.of(Method.SSD, Method.LFSSD);
        java.util.Set<Method> fisher = java.util.EnumSet.of(Method.SSD, Method.LFSSD, Method.DEEPCLEAN);
        java.util.Set<Method> training = java.util.EnumSet.of(Method.DEEPCLEAN, Method.RFA, Method.FINETUNE, Method.NEGGRAD,
                Method.RETRAIN);
        for (String o : new String[] {"--alpha", "--lambda", "--target-forget-acc", "--max-retain-drop", "--reference-model",
                                      "--retain-importance"}) {
            m.put(o, ssd);
        }
        for (String o : new String[] {"--estimator", "--batch-size", "--save-importances"}) {
            m.put(o, fisher);
        }
        for (String o : new String[] {"--lambda1", "--lambda2", "--codes"}) {
            m.put(o, java.util.EnumSet.of(Method.MNEMONIC));
        }
        for (String o : new String[] {"--gamma", "--reset-fraction", "--finetune-epochs"}) {
            m.put(o, java.util.EnumSet.of(Method.DEEPCLEAN));
        }
        for (String o : new String[] {"--epochs", "--lr", "--train-batch-size"}) {
            m.put(o, training);
        }
        m.put("--forget-weight", java.util.EnumSet.of(Method.NEGGRAD));
        for (String o : new String[] {"--rank", "--lora-layers", "--rfa-beta", "--rfa-shift", "--rfa-shift-scale"}) {
            m.put(o, java.util.EnumSet.of(Method.RFA));
        }
        return m;
    }

    /**
     * Says on stderr which of the given options the chosen method does not read: a setting silently ignored
     * (a --gamma given to ssd, a --retain-importance to finetune) looks as if it had been applied.
     */
    private static void noteIgnoredOptions(CommandLine cmd, Method method, boolean alphaAuto) {
        CommandLine.ParseResult parsed = cmd.getParseResult();
        if (parsed == null) {
            return;
        }
        List<String> ignored = new ArrayList<>();
        METHOD_OPTIONS.forEach((option, methods) -> {
            if (parsed.hasMatchedOption(option) && !methods.contains(method)) {
                ignored.add(option);
            }
        });
        List<String> autoOnly = new ArrayList<>();
        if (!alphaAuto && (method == Method.SSD || method == Method.LFSSD)) {
            for (String o : new String[] {"--target-forget-acc", "--max-retain-drop", "--reference-model"}) {
                if (parsed.hasMatchedOption(o)) {
                    autoOnly.add(o);
                }
            }
        }
        if (!ignored.isEmpty()) {
            cmd.getErr().println("note: " + String.join(", ", ignored) + (ignored.size() == 1 ? " does" : " do")
                    + " not apply to " + method.id() + " and " + (ignored.size() == 1 ? "is" : "are") + " ignored");
        }
        if (!autoOnly.isEmpty()) {
            cmd.getErr().println("note: " + String.join(", ", autoOnly) + (autoOnly.size() == 1 ? " only applies" : " only apply")
                    + " with --alpha auto and " + (autoOnly.size() == 1 ? "is" : "are") + " ignored");
        }
        cmd.getErr().flush();
    }

    private static double parseAlpha(String v) {
        try {
            return Double.parseDouble(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--alpha must be a number or 'auto', got '" + v + "'");
        }
    }
}
