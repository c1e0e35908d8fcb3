package ai.lethe.cli;

import java.util.Locale;
import java.util.concurrent.Callable;

import ai.lethe.bench.PerSampleBenchmark;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lethe bench per-sample}: the per-sample estimator's fast path against the one-sample loop. */
@Command(name = "per-sample",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Times the per-sample estimator (exact empirical Fisher) on a seeded zoo model and the first N Fashion-MNIST training images, all in one run: the batched fast path (one forward and backward per batch, per-sample gradients from each layer's inputs and output gradients), the one-sample loop it replaces (one backward pass per sample), the threaded one-sample loop (what TorchScript models run), and a pass of the batch estimator over the same samples. Samples are read into memory first; each path is warmed up on one batch; the paths run interleaved and the figures are medians.",
            "",
            "max_rel_diff is the largest per-tensor max|fast - loop| / max|loop| over the model's parameters."
        })
final class BenchPerSampleCommand implements Callable<Integer> {

    @Option(names = "--arch", paramLabel = "ARCH", defaultValue = "cnn",
            description = "Zoo architecture: cnn, mlp or resnet18-cifar (default: ${DEFAULT-VALUE}).")
    String arch;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "1000",
            description = "Fashion-MNIST training images (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "64",
            description = "Batch size of the fast path and of the batch-estimator pass (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--width", paramLabel = "W", defaultValue = "64",
            description = "ResNet base width (default: ${DEFAULT-VALUE}, as published).")
    int width;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Model initialisation seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--repetitions", paramLabel = "R", defaultValue = "3",
            description = "Timed rounds of every path (default: ${DEFAULT-VALUE}).")
    int repetitions;

    @Option(names = "--skip-threaded", description = "Do not time the threaded one-sample loop.")
    boolean skipThreaded;

    @CommandLine.Mixin
    DeviceOption device;

    /** --json prints one JSON object; --report also writes it to a file. */
    @CommandLine.Mixin
    ReportOptions reportOptions;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PerSampleBenchmark.Settings settings;
        try {
            settings = new PerSampleBenchmark.Settings(arch, samples, batchSize, width, seed, repetitions, !skipThreaded);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        reportOptions.register(CliOutput.paths(spec.commandLine())).check();
        PerSampleBenchmark.Report r;
        try (ai.lethe.kernels.Kernels kernels = device.open()) {
            r = PerSampleBenchmark.run(settings, kernels);
        }
        reportOptions.emit(spec.commandLine(), r, out -> {
            out.printf(Locale.ROOT, "%s (%s), %d samples, batch size %d, %s; medians of %d rounds%n", r.arch(), r.model(), r.samples(),
                    r.batchSize(), r.device(), r.repetitions());
            out.printf(Locale.ROOT, "fast path (%s): %.3f s%n", r.fastPath(), r.fastSeconds());
            out.printf(Locale.ROOT, "one-sample loop: %.3f s -> fast path %.1fx faster%n", r.loopSeconds(), r.loopOverFast());
            if (!Double.isNaN(r.threadedSeconds())) {
                out.printf(Locale.ROOT, "threaded one-sample loop: %.3f s%n", r.threadedSeconds());
            }
            out.printf(Locale.ROOT, "batch-estimator pass: %.3f s -> fast path costs %.2fx a batch pass%n", r.batchPassSeconds(),
                    r.fastOverBatchPass());
            out.printf(Locale.ROOT, "max relative difference fast vs loop: %.2e (%s)%n", r.maxRelDiff(), r.maxRelDiffTensor());
        });
        return 0;
    }
}
