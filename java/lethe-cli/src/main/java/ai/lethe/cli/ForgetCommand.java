package ai.lethe.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import ai.lethe.ForgetRequest;
import ai.lethe.Lethe;
import ai.lethe.importance.Estimator;
import ai.lethe.method.Method;
import ai.lethe.report.ForgetReport;
import ai.lethe.report.MetricsTable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "forget", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {
            "Makes a model forget part of its training data and writes the changed model.",
            "",
            "Methods: ssd (Selective Synaptic Dampening: importances over D and Df, dampen parameters with I_f > alpha*I_D by min(lambda*I_D/I_f, 1)), lfssd (the same with label-free importances), mnemonic (one-shot update from stored class codes; needs a model trained with 'lethe train --mnemonic-codes'), deepclean (reset the weights with the largest I_f/I_r, fine-tune only them on Dr), rfa (LoRA branches trained to keep Dr's features and shift Df's, merged; zoo models), and the baselines finetune, neggrad and retrain (zoo models).",
            "",
            "Accuracies and a membership-inference attack are measured before and after (skip with --no-eval).",
            "",
            "Example: lethe forget --model m.pt --data fashion-mnist --forget-class 1 --method lfssd --alpha 2 --out forgotten.pt --report report.json"
        })
final class ForgetCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Mixin
    DataOptions data;

    @Mixin
    ForgetSetOptions forget;

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
            description = "Also write DIR/importance_full.safetensors and DIR/importance_forget.safetensors.")
    Path saveImportances;

    @Option(names = "--out", required = true, paramLabel = "OUT.pt",
            description = "Where to write the changed model: TorchScript, or its parameters as safetensors when the name ends in .safetensors.")
    Path out;

    @Option(names = "--report", paramLabel = "R.json", description = "Write the report as JSON.")
    Path report;

    @Option(names = "--no-eval", description = "Skip the before/after evaluation (faster).")
    boolean noEval;

    @Option(names = "--json", description = "Print the report as JSON on stdout instead of the table.")
    boolean json;

    @Mixin
    DeviceOption device;

    @Mixin
    ProgressOptions progressOptions;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommandLine cmd = spec.commandLine();
        CliOutput.requireFileTarget(cmd, "--out", out);
        CliOutput.requireFileTarget(cmd, "--report", report);
        ForgetRequest request;
        try {
            boolean auto = alpha.strip().equalsIgnoreCase("auto");
            request = ForgetRequest.of(data.data, forget.required(cmd)).method(method).estimator(estimator)
                    .alpha(auto ? 10 : parseAlpha(alpha)).alphaAuto(auto).targetForgetAcc(targetForgetAcc).maxRetainDrop(maxRetainDrop)
                    .referenceModel(referenceModel).lambda(lambda).batchSize(batchSize).trainLimit(data.trainLimit)
                    .retainImportance(retainImportance).saveImportances(saveImportances).evaluate(!noEval)
                    .lambda1(lambda1).lambda2(lambda2).codes(codes).gamma(gamma).resetFraction(resetFraction)
                    .epochs(finetuneEpochs != null ? finetuneEpochs : epochs).lr(lr).trainBatchSize(trainBatchSize).seed(forget.seed)
                    .forgetWeight(forgetWeight).rank(rank).loraLayers(loraLayers).rfaBeta(rfaBeta).rfaShift(rfaShift)
                    .rfaShiftScale(rfaShiftScale);
            request.validate();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, e.getMessage());
        }
        try (Lethe lethe = model.open(device.name).progress(progressOptions.progress())) {
            Lethe.ForgetResult result = lethe.forget(request);
            lethe.save(out);
            ForgetReport r = result.report();
            CliOutput.emit(cmd, r, report, json, o -> print(o, r));
            for (String note : r.notes()) {
                cmd.getErr().println("note: " + note);
            }
        }
        return 0;
    }

    private static double parseAlpha(String v) {
        try {
            return Double.parseDouble(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--alpha must be a number or 'auto', got '" + v + "'");
        }
    }

    static void print(PrintWriter o, ForgetReport r) {
        o.printf(Locale.ROOT, "%s on %s: forgot %s (%d samples; %d retained)%n", r.method(), r.device(), r.forgetSet(),
                r.forgetSamples(), r.retainSamples());
        o.printf(Locale.ROOT, "settings: %s%n", settings(r.settings()));
        o.printf(Locale.ROOT, "changed %,d of %,d parameters (%.3f%%)%s%s%n", r.selected(), r.params(), r.selectedFraction() * 100,
                r.largestRatio() == null ? "" : String.format(Locale.ROOT, "; largest I_f/I_D %.4g", r.largestRatio()),
                r.importanceFullSource() == null ? "" : "; I_D " + r.importanceFullSource());
        if (r.details().get("alpha_search") instanceof java.util.Map<?, ?> search) {
            o.printf(Locale.ROOT, "alpha auto: chose %s (target held-out forget accuracy %s, %s)%n", search.get("chosen_alpha"),
                    search.get("target_forget_acc"), search.get("target_source"));
        }
        if (r.before() != null) {
            o.print(MetricsTable.render(r.before(), r.after()));
        }
        ForgetReport.Seconds s = r.seconds();
        o.printf(Locale.ROOT, "seconds: importance D %.2f, importance Df %.2f, update %.3f, total %.2f%s%n", s.importanceFull(),
                s.importanceForget(), s.update(), s.total(), s.evaluate() == null ? "" : String.format(Locale.ROOT, " (+ evaluation %.2f)", s.evaluate()));
    }

    private static String settings(java.util.Map<String, Object> m) {
        StringBuilder b = new StringBuilder();
        m.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k).append('=').append(v instanceof Number n ? num(n.doubleValue()) : v));
        return b.toString();
    }

    private static String num(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
