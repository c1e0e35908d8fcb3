package ai.lethe.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import ai.lethe.data.DataSource;
import ai.lethe.data.MnemonicCodes;
import ai.lethe.eval.Evaluator;
import ai.lethe.kernels.Kernels;
import ai.lethe.model.zoo.Zoo;
import ai.lethe.model.zoo.ZooConfig;
import ai.lethe.model.zoo.ZooModel;
import ai.lethe.report.Progress;
import ai.lethe.train.Schedule;
import ai.lethe.train.Trainer;
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

    @Option(names = "--json", description = "Print a JSON summary on stdout.")
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
        Trainer.Settings settings;
        String a;
        try {
            a = Zoo.normalise(arch);
            settings = new Trainer.Settings(epochs, batchSize, lr, momentum, weightDecay, Schedule.parse(schedule), seed);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, e.getMessage());
        }
        Progress progress = progressOptions.progress();
        DataSource source = DataSource.open(data.data, data.trainLimit);
        int[] trainLabels = source.train().labels();
        int[] testLabels = source.test().labels();
        int classes = Math.max(java.util.Arrays.stream(trainLabels).max().orElse(0), java.util.Arrays.stream(testLabels).max().orElse(0)) + 1;
        int[] shape = source.train().sampleShape();
        if (shape.length != 3 || shape[1] != shape[2]) {
            throw new IllegalArgumentException("the zoo needs square images [C, H, H], the data has " + java.util.Arrays.toString(shape));
        }
        long t0 = System.nanoTime();
        try (Kernels kernels = device.open();
             ZooModel model = ZooModel.create(a, new ZooConfig(shape[0], shape[1], Math.max(2, classes), width, hidden), seed)) {
            MnemonicCodes codes = mnemonic ? MnemonicCodes.draw(Math.max(2, classes), shape, seed, codeDistribution, tMix) : null;
            model.putMetadata("lethe.trained_on", source.train().description());
            model.putMetadata("lethe.training", String.format(Locale.ROOT,
                    "sgd lr=%s momentum=%s weight_decay=%s schedule=%s batch=%d seed=%d", lr, momentum, weightDecay, schedule,
                    batchSize, seed));
            if (codes != null) {
                codes.toMetadata().forEach(model::putMetadata);
            }
            cmd.getErr().printf(Locale.ROOT, "training %s (%,d parameters) on %s with %s%s%n", a, model.parameterCount(),
                    source.train().description(), kernels.description(), codes == null ? "" : ", mnemonic codes t_mix=" + tMix);
            List<Trainer.Epoch> history = new Trainer(kernels, progress).train(model, source.train(), trainLabels, null, settings,
                    codes, null, epoch -> {
                        model.putMetadata("lethe.epochs_done", Integer.toString(epoch.epoch()));
                        model.save(out);
                        if (codes != null) {
                            codes.save(MnemonicCodes.besideModel(out));
                        }
                        cmd.getErr().printf(Locale.ROOT, "epoch %d/%d: loss %.4f, %.1f s, checkpoint %s%n", epoch.epoch(), epochs,
                                epoch.meanLoss(), epoch.seconds(), out);
                    });
            double testAcc = new Evaluator(256, progress).accuracy(model, source.test(), testLabels);
            model.putMetadata("lethe.test_acc", String.format(Locale.ROOT, "%.4f", testAcc));
            model.save(out);
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("arch", a);
            summary.put("params", model.parameterCount());
            summary.put("data", source.train().description());
            summary.put("epochs", history);
            summary.put("test_acc", testAcc);
            summary.put("mnemonic_codes", codes == null ? null : MnemonicCodes.besideModel(out).toString());
            summary.put("seconds", (System.nanoTime() - t0) / 1e9);
            summary.put("out", out.toString());
            CliOutput.emit(cmd, summary, null, json, o -> o.printf(Locale.ROOT, "wrote %s: %s, test accuracy %.4f, %.1f s%n",
                    out, a, testAcc, (System.nanoTime() - t0) / 1e9));
        }
        return 0;
    }
}
