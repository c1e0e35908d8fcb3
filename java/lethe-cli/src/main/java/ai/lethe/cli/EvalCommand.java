package ai.lethe.cli;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

import ai.lethe.Lethe;
import ai.lethe.eval.Metrics;
import ai.lethe.report.ForgetReport;
import ai.lethe.report.MetricsTable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "eval", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {
            "Measures a model against a forget set: accuracy on forget-train, retain-train, forget-test (test samples of the forgotten classes; for sample forgetting the forget-train set) and retain-test, and the membership-inference attack rate on the forget set (entropy feature, balanced logistic regression)."
        })
final class EvalCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Mixin
    DataOptions data;

    @Mixin
    ForgetSetOptions forget;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "256", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Mixin
    ReportOptions reportOptions;

    @Mixin
    DeviceOption device;

    @Mixin
    ProgressOptions progressOptions;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommandLine cmd = spec.commandLine();
        if (batchSize < 1) {
            throw new CommandLine.ParameterException(cmd, "--batch-size must be at least 1");
        }
        reportOptions.register(forget.inputs(model.inputs(CliOutput.paths(cmd))).data(data.data)).check();
        var forgetSet = forget.required(cmd);
        try (Lethe lethe = model.open(device.name).progress(progressOptions.progress())) {
            Metrics m = lethe.evaluate(data.data, data.trainLimit, forgetSet, batchSize);
            ForgetReport.MetricsReport r = ForgetReport.MetricsReport.of(m);
            Map<String, Object> out = new java.util.LinkedHashMap<>();
            out.put("model", lethe.model().description());
            out.put("model_fingerprint", lethe.model().fingerprint());
            out.put("metrics", r);
            reportOptions.emit(cmd, out, o -> o.print(MetricsTable.render(r, null)));
        }
        return 0;
    }
}
