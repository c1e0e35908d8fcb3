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
            "Times the per-sample estimator (exact empirical Fisher) on a seeded zoo model and the first N Fashion-MNIST training images (or, with --input, N seeded synthetic samples of that shape, as bench e2e makes them), all in one run: the batched fast path (one forward and backward per batch, per-sample gradients from each layer's inputs and output gradients), the one-sample loop it replaces (one backward pass per sample), the threaded one-sample loop (what TorchScript models run), and a pass of the batch estimator over the same samples. Samples are read into memory first; with --device cuda the model runs on the GPU when libtorch can use it (placement in the output). The fast path and the batch pass are warmed up by passes over every sample, one each and more for --warmup-seconds (the JIT compiles the CPU route's kernels seconds into a run), the loop on one batch; then the fast path, the loop and the batch pass run interleaved and the figures are medians.",
            "",
            "The threaded loop is timed last, in its own phase after every round of the others, and warmed up only there: each of its threads runs libtorch with an OpenMP team of its own, and while more OpenMP threads exist than cores libgomp stops spinning between parallel regions, which slows any other pass. (Its threads once outlived it and left every later pass of the process 20-35%% slower on the 2-core machine; they now end with each batch.)",
            "",
            "--loop-samples K times the one-sample loops on the first K samples only (they take minutes on ResNet-18); loop_over_fast then compares seconds per sample, and max_rel_diff (the largest per-tensor max|fast - loop| / max|loop| over the model's parameters) compares them with an extra, untimed fast pass over the same K samples."
        })
final class BenchPerSampleCommand implements Callable<Integer> {

    @Option(names = "--arch", paramLabel = "ARCH", defaultValue = "cnn",
            description = "Zoo architecture: cnn, mlp, resnet18-cifar, or resnet18 (with --input only) (default: ${DEFAULT-VALUE}).")
    String arch;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "1000",
            description = "Samples: Fashion-MNIST training images, or synthetic ones with --input (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--input", paramLabel = "C,H,W",
            description = "Seeded synthetic samples of this shape (for example 3,32,32, as scripts/pytorch_per_sample_fisher.py --input) instead of Fashion-MNIST's 1,28,28.")
    String input;

    @Option(names = "--loop-samples", paramLabel = "K",
            description = "Time the one-sample loops on the first K samples only (1 to N; default: all N).")
    Integer loopSamples;

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

    @Option(names = "--workers", paramLabel = "N", defaultValue = "auto", converter = WorkersOption.Converter.class,
            description = "Workers (model replicas on their own threads) for the fast path and the batch pass, as --workers of"
                    + " fisher and forget; the one-sample loops run on one. auto: each estimator's default (the zoo cnn's"
                    + " per-sample route on the CPU: one per core; the batch pass: 1) (default: ${DEFAULT-VALUE}).")
    Integer workers;

    @Option(names = "--warmup-seconds", paramLabel = "S", defaultValue = "4",
            description = "Keep warming up the fast path and the batch pass (alternating passes over every sample) until S seconds"
                    + " have passed; 0: one pass each (default: ${DEFAULT-VALUE}).")
    double warmupSeconds;

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
            settings = new PerSampleBenchmark.Settings(arch, samples, batchSize, width, seed, repetitions, !skipThreaded,
                    input == null ? null : PerSampleBenchmark.parseInput(input), loopSamples == null ? samples : loopSamples,
                    workers == null ? 0 : workers, warmupSeconds);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        reportOptions.register(CliOutput.paths(spec.commandLine())).check();
        PerSampleBenchmark.Report r;
        try (ai.lethe.kernels.Kernels kernels = device.open()) {
            r = PerSampleBenchmark.run(settings, kernels);
        }
        reportOptions.emit(spec.commandLine(), r, out -> {
            out.printf(Locale.ROOT, "%s (%s), %d %s samples %s, batch size %d, %s, model on %s; medians of %d rounds after %d warm-up passes%n",
                    r.arch(), r.model(), r.samples(), r.input().source(), shape(r.input().shape()), r.batchSize(), r.device(),
                    r.placement(), r.repetitions(), r.warmupPasses());
            String workersNote = r.workers() == 1 ? "" : String.format(Locale.ROOT, " on %d workers", r.workers());
            String batchWorkersNote = r.batchWorkers() == 1 ? "" : String.format(Locale.ROOT, " on %d workers", r.batchWorkers());
            out.printf(Locale.ROOT, "fast path (%s)%s: %.3f s%n", r.fastPath(), workersNote, r.fastSeconds());
            String on = r.loopSamples() == r.samples() ? "" : String.format(Locale.ROOT, " on the first %d samples", r.loopSamples());
            out.printf(Locale.ROOT, "one-sample loop%s: %.3f s -> fast path %.1fx faster per sample%n", on, r.loopSeconds(),
                    r.loopOverFast());
            if (r.threadedSeconds() != null) {
                out.printf(Locale.ROOT, "threaded one-sample loop%s (timed last): %.3f s%n", on, r.threadedSeconds());
            }
            out.printf(Locale.ROOT, "batch-estimator pass%s: %.3f s -> fast path costs %.2fx a batch pass%n", batchWorkersNote, r.batchPassSeconds(),
                    r.fastOverBatchPass());
            out.printf(Locale.ROOT, "max relative difference fast vs loop%s: %.2e (%s)%n", on, r.maxRelDiff(), r.maxRelDiffTensor());
        });
        return 0;
    }

    private static String shape(int[] chw) {
        return chw[0] + "x" + chw[1] + "x" + chw[2];
    }
}
