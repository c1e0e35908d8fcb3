package ai.lethe.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import ai.lethe.data.DataSource;
import ai.lethe.kernels.Kernels;
import ai.lethe.model.zoo.Zoo;
import ai.lethe.train.Schedule;
import ai.lethe.train.Trainer;
import ai.lethe.train.Training;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {
            "Trains a model of the built-in zoo (mlp, cnn, resnet18-cifar, resnet18) from scratch with SGD (momentum, weight decay, cosine or step schedule) and writes it as a safetensors state_dict whose metadata names the architecture. The model is written after every epoch, so an interrupted run keeps its last complete epoch.",
            "",
            "With --mnemonic-codes one code per class is drawn from --seed and each training sample is replaced by its class's code with probability --t-mix at every access; the codes are stored in the model's metadata and beside it (OUT.codes.safetensors), because 'lethe forget --method mnemonic' needs them."
        })
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--arch", required = true, paramLabel = "ARCH", description = "mlp, cnn, resnet18-cifar or resnet18.")
    String arch;

    @Mixin
    DataOptions data;

    @Option(names = "--epochs", paramLabel = "E", defaultValue = "5", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "128", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "0.05", description = "Base learning rate (default: ${DEFAULT-VALUE}).")
    float lr;

    @Option(names = "--momentum", paramLabel = "M", defaultValue = "0.9", description = "SGD momentum (default: ${DEFAULT-VALUE}).")
    float momentum;

    @Option(names = "--weight-decay", paramLabel = "WD", defaultValue = "5e-4", description = "Weight decay (default: ${DEFAULT-VALUE}).")
    float weightDecay;

    @Option(names = "--schedule", paramLabel = "S", defaultValue = "cosine", description = "cosine, step or constant (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Initialisation, shuffling and code seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--width", paramLabel = "W", defaultValue = "64", description = "ResNet base width (default: ${DEFAULT-VALUE}).")
    int width;

    @Option(names = "--hidden", paramLabel = "H", defaultValue = "1000", description = "MLP hidden units (default: ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--mnemonic-codes", description = "Train with mnemonic codes (needed by --method mnemonic).")
    boolean mnemonic;

    @Option(names = "--t-mix", paramLabel = "P", defaultValue = "0.1",
            description = "Probability of replacing a sample by its class's code (default: ${DEFAULT-VALUE}; the paper uses 0.3 for CIFAR-10).")
    double tMix;

    @Option(names = "--code-distribution", paramLabel = "D", defaultValue = "uniform",
            description = "uniform (U[0,1), as the reference code) or normal (N(0,1), as the paper) (default: ${DEFAULT-VALUE}).")
    String codeDistribution;

    @Option(names = "--out", required = true, paramLabel = "M.safetensors", description = "Where to write the model.")
    Path out;

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
        reportOptions.register(CliOutput.paths(cmd).data(data.data).output("--out", out)
                .output("--out (its codes file)", mnemonic ? ai.lethe.data.MnemonicCodes.besideModel(out) : null)).check();
        if (!mnemonic && (cmd.getParseResult().hasMatchedOption("--t-mix") || cmd.getParseResult().hasMatchedOption("--code-distribution"))) {
            cmd.getErr().println("note: --t-mix and --code-distribution only apply with --mnemonic-codes and are ignored");
        }
        CliOutput.requireSafetensorsName(cmd, "--out", out, "a trained model is a safetensors state_dict");
        Trainer.Settings settings;
        String a;
        if (width < 1 || hidden < 1) {
            throw new CommandLine.ParameterException(cmd, "--width and --hidden must be at least 1, got " + width + " and " + hidden);
        }
        try {
            a = Zoo.normalise(arch);
            settings = new Trainer.Settings(epochs, batchSize, lr, momentum, weightDecay, Schedule.parse(schedule), seed);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, e.getMessage());
        }
        DataSource source = DataSource.open(data.data, data.trainLimit);
        try (Kernels kernels = device.open()) {
            Training.Result r = Training.run(new Training.Request(a, width, hidden, settings, mnemonic, tMix, codeDistribution), source,
                    out, kernels, progressOptions.progress());
            reportOptions.emit(cmd, r, o -> o.printf(Locale.ROOT, "wrote %s: %s, test accuracy %.4f, %.1f s%s%n",
                    r.out(), r.arch(), r.testAcc(), r.seconds(), r.codes() == null ? "" : "; codes in " + r.codes()));
        }
        return 0;
    }
}
