package ai.lethe.cli;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;

import ai.lethe.ForgetRequest;
import ai.lethe.Lethe;
import ai.lethe.data.ForgetSet;
import ai.lethe.method.Method;
import ai.lethe.report.ForgetReport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {
            "Runs Lethe end to end on the bundled Fashion-MNIST CNN (105,866 parameters, trained with PyTorch): forgets one class and prints accuracies and the membership-inference attack rate before and after. Trains nothing. Needs Fashion-MNIST (apt-get install dataset-fashion-mnist)."
        })
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--forget-class", paramLabel = "C", defaultValue = "1",
            description = "Class to forget (default: ${DEFAULT-VALUE} = Trouser).")
    int forgetClass;

    @Option(names = "--method", paramLabel = "METHOD", defaultValue = "lfssd", converter = Converters.MethodConverter.class,
            description = "ssd or lfssd (default: ${DEFAULT-VALUE}).")
    Method method;

    @Option(names = "--alpha", paramLabel = "A", defaultValue = "2", description = "Selection threshold (default: ${DEFAULT-VALUE}).")
    double alpha;

    @Option(names = "--train-limit", paramLabel = "N", defaultValue = "10000",
            description = "Training samples to use, from the start of the file (default: ${DEFAULT-VALUE}; 0 = all 60,000).")
    int trainLimit;

    @Option(names = "--out", paramLabel = "OUT.pt", description = "Also save the forgotten model here.")
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
        reportOptions.register(CliOutput.paths(spec.commandLine()).output("--out", out)).check();
        if (method != Method.SSD && method != Method.LFSSD) {
            throw new CommandLine.ParameterException(spec.commandLine(), "the demo runs ssd or lfssd; for " + method.id()
                    + " use 'lethe forget' (the demo's model has no mnemonic codes and is not a zoo model)");
        }
        request().validate(); // bad settings fail before any work
        Path model = Files.createTempFile("lethe-demo-", ".pt");
        try {
            try (InputStream in = DemoCommand.class.getResourceAsStream("/ai/lethe/demo/fmnist-cnn.pt")) {
                if (in == null) {
                    throw new IllegalStateException("the demo model is missing from this build");
                }
                Files.copy(in, model, StandardCopyOption.REPLACE_EXISTING);
            }
            try (Lethe lethe = dataOnDevice.applyTo(workersOption.applyTo(Lethe.load(model, device.name))).progress(progressOptions.progress())) {
                ForgetReport r = lethe.forget(request()).report();
                if (out != null) {
                    lethe.save(out);
                }
                reportOptions.emit(spec.commandLine(), r, o -> ForgetCommand.print(o, r));
            }
        } finally {
            Files.deleteIfExists(model);
        }
        return 0;
    }

    private ForgetRequest request() {
        return ForgetRequest.of("fashion-mnist", ForgetSet.classes(forgetClass)).method(method)
                .settings(ai.lethe.method.MethodSettings.Ssd.DEFAULTS.withAlpha(alpha)).trainLimit(trainLimit);
    }
}
