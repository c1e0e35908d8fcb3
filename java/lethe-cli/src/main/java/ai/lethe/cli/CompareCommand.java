package ai.lethe.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import ai.lethe.data.DataSource;
import ai.lethe.data.ForgetSet;
import ai.lethe.eval.Comparison;
import ai.lethe.kernels.Kernels;
import ai.lethe.method.Method;
import ai.lethe.report.ComparisonReport;
import ai.lethe.report.Progress;
import ai.lethe.train.Schedule;
import ai.lethe.train.Trainer;
import ai.lethe.train.Training;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "compare", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {
            "Runs several unlearning methods from the same starting model and compares them: accuracy on forget/retain train/test, the membership-inference rate, and unlearning seconds, as DIR/compare.json, compare.md and compare.html with a bar chart (compare.png). The changed models are written to DIR too.",
            "",
            "Without --model it first trains one (--arch, --epochs, --lr; with mnemonic codes, so that every method can run) into DIR/base.safetensors. retrain runs first, with the same training budget, and its forget accuracy becomes the target of SSD/LFSSD's --alpha auto and Mnemonic's --lambda1 auto. A method that cannot run on the model (mnemonic without codes, rfa or retrain on TorchScript) is listed as not run, with the reason, and the exit status is then 1 (with the reasons on stderr); a bad option fails before any work with status 2."
        })
final class CompareCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "M", description = "Starting model (default: train one).")
    Path model;

    @Option(names = "--arch", paramLabel = "ARCH", defaultValue = "mlp",
            description = "Architecture to train when no --model is given (default: ${DEFAULT-VALUE}).")
    String arch;

    @Mixin
    DataOptions data;

    @Option(names = "--forget-class", required = true, split = ",", paramLabel = "C", description = "Class(es) to forget.")
    int[] forgetClasses;

    @Option(names = "--methods", split = ",", paramLabel = "M",
            defaultValue = "ssd,lfssd,deepclean,mnemonic,rfa,finetune,neggrad,retrain", converter = Converters.MethodConverter.class,
            description = "Methods to compare (default: ${DEFAULT-VALUE}).")
    List<Method> methods;

    @Option(names = "--alpha", paramLabel = "A", defaultValue = "auto",
            description = "SSD/LFSSD alpha, or auto (default: ${DEFAULT-VALUE}).")
    String alpha;

    @Option(names = "--lambda1", paramLabel = "L1", defaultValue = "auto",
            description = "Mnemonic lambda1, or auto (default: ${DEFAULT-VALUE}).")
    String lambda1;

    @Option(names = "--epochs", paramLabel = "E", defaultValue = "5",
            description = "Training epochs of the base model and of retrain (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "0.1",
            description = "Learning rate of the base model and of retrain (default: ${DEFAULT-VALUE}).")
    float lr;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--report", paramLabel = "DIR", defaultValue = "lethe-compare",
            description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path report;

    @Mixin
    DeviceOption device;

    @Mixin
    ProgressOptions progressOptions;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommandLine cmd = spec.commandLine();
        if (Files.exists(report) && !Files.isDirectory(report)) {
            throw new CommandLine.ParameterException(cmd, "--report " + report + " exists and is not a directory");
        }
        boolean auto = alpha.strip().equalsIgnoreCase("auto");
        double alphaValue;
        try {
            alphaValue = auto ? 10 : Double.parseDouble(alpha);
        } catch (NumberFormatException e) {
            throw new CommandLine.ParameterException(cmd, "--alpha must be a number or auto, got '" + alpha + "'");
        }
        boolean lambda1Auto = lambda1.strip().equalsIgnoreCase("auto");
        double lambda1Value;
        try {
            lambda1Value = lambda1Auto ? 1e-3 : Double.parseDouble(lambda1);
        } catch (NumberFormatException e) {
            throw new CommandLine.ParameterException(cmd, "--lambda1 must be a number or auto, got '" + lambda1 + "'");
        }
        if (epochs < 1) {
            throw new CommandLine.ParameterException(cmd, "--epochs must be at least 1");
        }
        List<Method> list = new ArrayList<>(new java.util.LinkedHashSet<>(methods));
        java.util.function.UnaryOperator<ai.lethe.ForgetRequest> configure = req -> {
            req.seed(seed);
            if (req.settings() instanceof ai.lethe.method.MethodSettings.Ssd s) {
                req.settings(auto ? s.withAlphaAuto() : s.withAlpha(alphaValue));
            }
            if (req.settings() instanceof ai.lethe.method.MethodSettings.Mnemonic m) {
                req.settings(lambda1Auto ? m.withLambda1Auto() : m.withLambda1(lambda1Value));
            }
            if (req.method() == Method.RETRAIN) {
                req.settings(req.settings().training().withEpochs(epochs).withLr(lr));
            }
            return req;
        };
        Comparison.validate(data.data, data.trainLimit, ForgetSet.classes(forgetClasses), list, configure);
        // What the comparison will write into --report: a model that is one of them would be overwritten.
        Path trainedBase = report.resolve("base.safetensors");
        CliOutput.Paths paths = CliOutput.paths(cmd).input("--model", model).data(data.data)
                .output("--report", model == null ? trainedBase : null);
        for (Method m : list) {
            paths.output("--report", Comparison.methodOutput(report, m, model != null ? model : trainedBase));
        }
        for (String f : ComparisonReport.FILES) {
            paths.output("--report", report.resolve(f));
        }
        paths.check();
        Progress progress = progressOptions.progress();
        Files.createDirectories(report);
        Path base = model;
        if (base == null) {
            base = trainedBase;
            try (Kernels kernels = device.open()) {
                Training.Result t = Training.run(new Training.Request(arch, 64, 1000,
                        new Trainer.Settings(epochs, 128, lr, 0.9f, 5e-4f, Schedule.COSINE, seed), true, 0.1, "uniform"),
                        DataSource.open(data.data, data.trainLimit), base, kernels, progress);
                cmd.getErr().printf(Locale.ROOT, "base model: %s, test accuracy %.4f%n", base, t.testAcc());
            }
        }
        ComparisonReport r = Comparison.run(base, data.data, data.trainLimit, ForgetSet.classes(forgetClasses), list, device.name,
                configure, report, progress);
        r.writeAll(report);
        cmd.getOut().print(r.markdown());
        cmd.getOut().printf("wrote %s/compare.json, compare.md, compare.html, compare.png%n", report);
        cmd.getOut().flush();
        if (r.failures().isEmpty()) {
            return 0;
        }
        // The table lists them too, but a caller (or -q) must see on stderr why the exit status is 1.
        StringBuilder why = new StringBuilder();
        r.failures().forEach((m, reason) -> why.append(why.length() == 0 ? "" : "; ").append(m).append(": ").append(reason));
        cmd.getErr().println(spec.qualifiedName() + ": " + r.failures().size() + " of " + list.size() + " methods did not run ("
                + why + ")");
        cmd.getErr().flush();
        return 1;
    }
}
