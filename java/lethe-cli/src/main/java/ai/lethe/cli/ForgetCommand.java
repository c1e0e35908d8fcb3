package ai.lethe.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import ai.lethe.ForgetRequest;
import ai.lethe.Lethe;
import ai.lethe.report.ForgetReport;
import ai.lethe.report.MetricsTable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "forget", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        modelTransformer = MethodOptions.Generated.class,
        description = {
            "Makes a model forget part of its training data and writes the changed model.",
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

    @Mixin
    MethodOptions methodOptions;

    @Option(names = "--out", required = true, paramLabel = "OUT.pt",
            description = "Where to write the changed model: TorchScript, or its parameters as safetensors when the name ends in .safetensors.")
    Path out;

    @Mixin
    ReportOptions reportOptions;

    @Mixin
    DeviceOption device;

    @Mixin
    WorkersOption workersOption;

    @Mixin
    DataOnDeviceOption dataOnDevice;

    @Mixin
    ProgressOptions progressOptions;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommandLine cmd = spec.commandLine();
        CliOutput.Paths paths = methodOptions.paths(cmd, forget.inputs(model.inputs(CliOutput.paths(cmd)))).data(data.data)
                .output("--out", out);
        reportOptions.register(paths).check();
        ForgetRequest request = methodOptions.request(cmd, data, forget);
        try (Lethe lethe = dataOnDevice.applyTo(workersOption.applyTo(model.open(device.name))).progress(progressOptions.progress())) {
            lethe.requireSavable(out);
            Lethe.ForgetResult result = lethe.forget(request);
            lethe.save(out);
            ForgetReport r = result.report();
            reportOptions.emit(cmd, r, o -> print(o, r));
            for (String note : r.notes()) {
                cmd.getErr().println("note: " + note);
            }
        }
        return 0;
    }

    static void print(PrintWriter o, ForgetReport r) {
        o.printf(Locale.ROOT, "%s on %s: forgot %s (%d samples; %d retained)%n", r.method(), r.device(), r.forgetSet(),
                r.forgetSamples(), r.retainSamples());
        o.printf(Locale.ROOT, "settings: %s%n", settings(r.settings()));
        o.printf(Locale.ROOT, "changed %,d of %,d parameters (%.3f%%)%s%s%n", r.selected(), r.params(), r.selectedFraction() * 100,
                r.largestRatio() == null ? "" : String.format(Locale.ROOT, "; largest I_f/I_D %.4g", r.largestRatio()),
                r.importanceFullSource() == null ? "" : "; I_D " + r.importanceFullSource());
        if (r.details().get("alpha_search") instanceof ai.lethe.method.AlphaSearch search) {
            o.printf(Locale.ROOT, "alpha auto: chose %s (target held-out forget accuracy %s, %s)%n", search.chosenAlpha(),
                    search.targetForgetAcc(), search.targetSource());
        }
        if (r.details().get("lambda1_search") instanceof ai.lethe.method.LambdaSearch search) {
            o.printf(Locale.ROOT, "lambda1 auto: chose %s, lambda2 %s (target held-out forget accuracy %s, %s)%n",
                    search.chosenLambda1(), search.chosenLambda2(), search.targetForgetAcc(), search.targetSource());
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
        m.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k).append('=').append(CliNames.value(v)));
        return b.toString();
    }
}
