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
            "SSD computes the importance (diagonal Fisher) of every parameter over the whole training set D and over the forget set Df, and dampens the parameters that matter much more to Df than to D (I_f > alpha*I_D) by min(lambda*I_D/I_f, 1). LFSSD does the same with label-free importances. Accuracies and a membership-inference attack are measured before and after (skip with --no-eval).",
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
            description = "ssd or lfssd (default: ${DEFAULT-VALUE}).")
    Method method;

    @Option(names = "--alpha", paramLabel = "A", defaultValue = "10",
            description = "Selection threshold: dampen parameters with I_f > A*I_D (default: ${DEFAULT-VALUE}; smaller forgets more).")
    double alpha;

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
            request = ForgetRequest.of(data.data, forget.required(cmd)).method(method).estimator(estimator).alpha(alpha)
                    .lambda(lambda).batchSize(batchSize).trainLimit(data.trainLimit).retainImportance(retainImportance)
                    .saveImportances(saveImportances).evaluate(!noEval);
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

    static void print(PrintWriter o, ForgetReport r) {
        o.printf(Locale.ROOT, "%s on %s: forgot %s (%d samples; %d retained) with %s importances, alpha=%s lambda=%s%n",
                r.method(), r.device(), r.forgetSet(), r.forgetSamples(), r.retainSamples(), r.estimator(),
                num(r.alpha()), num(r.lambda()));
        o.printf(Locale.ROOT, "selected %,d of %,d parameters (%.3f%%); largest I_f/I_D %s; I_D %s%n", r.selected(), r.params(),
                r.selectedFraction() * 100, r.largestRatio() == null ? "inf" : String.format(Locale.ROOT, "%.4g", r.largestRatio()),
                r.importanceFullSource());
        if (r.before() != null) {
            o.print(MetricsTable.render(r.before(), r.after()));
        }
        ForgetReport.Seconds s = r.seconds();
        o.printf(Locale.ROOT, "seconds: importance D %.2f, importance Df %.2f, update %.3f, total %.2f%s%n", s.importanceFull(),
                s.importanceForget(), s.update(), s.total(), s.evaluate() == null ? "" : String.format(Locale.ROOT, " (+ evaluation %.2f)", s.evaluate()));
    }

    private static String num(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
