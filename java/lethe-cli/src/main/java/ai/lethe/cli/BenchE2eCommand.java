package ai.lethe.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import ai.lethe.bench.EndToEndBenchmark;
import ai.lethe.importance.Workers;
import ai.lethe.kernels.Backends;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lethe bench e2e}: SSD end to end on a zoo model, as a GPU server runs it, timed by phase. */
@Command(name = "e2e",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "SSD end to end on a freshly initialised zoo model (default resnet18-cifar: 32x32x3 inputs, 10 classes) with seeded synthetic inputs: the importance over D (every sample, batch Fisher), the importance over the forget set (every k-th sample, k = 1/fraction) and the dampening update, each timed. With --device cuda the model, its gradients, the importances and the update all stay on the GPU (libtorch's CUDA build).",
            "",
            "scripts/pytorch_ssd_gpu.py runs the same job in PyTorch: give it the model file from --save-model and the same --samples, --batch-size, --forget-fraction and --seed, and compare seconds and the selected count side by side. A few warm-up batches run first (not timed)."
        })
final class BenchE2eCommand implements Callable<Integer> {

    @Option(names = "--arch", paramLabel = "ARCH", defaultValue = "resnet18-cifar",
            description = "Zoo architecture: resnet18-cifar (3x32x32), cnn or mlp (1x28x28) (default: ${DEFAULT-VALUE}).")
    String arch;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "50000",
            description = "Samples in D (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "128", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--forget-fraction", paramLabel = "F", defaultValue = "0.1",
            description = "Fraction of D forgotten: every round(1/F)-th sample (default: ${DEFAULT-VALUE}).")
    double forgetFraction;

    @Option(names = "--width", paramLabel = "W", defaultValue = "64", description = "ResNet base width (default: ${DEFAULT-VALUE}, as published).")
    int width;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Seed of the model and the inputs (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--warmup-batches", paramLabel = "K", defaultValue = "5", description = "Untimed batches first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--alpha", paramLabel = "A", defaultValue = "10", description = "SSD selection threshold (default: ${DEFAULT-VALUE}).")
    float alpha;

    @Option(names = "--lambda", paramLabel = "L", defaultValue = "1", description = "SSD dampening constant (default: ${DEFAULT-VALUE}).")
    float lambda;

    @Option(names = "--save-model", paramLabel = "FILE.safetensors",
            description = "Write the benchmark's model here first (a PyTorch state_dict), for scripts/pytorch_ssd_gpu.py.")
    Path saveModel;

    @CommandLine.Mixin
    DeviceOption device;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "1",
            description = "Importance-pass workers (threads with their own model replica and, on a GPU, CUDA stream) (default: ${DEFAULT-VALUE}).")
    int workers;

    /** --json prints one JSON object; --report also writes it to a file. */
    @CommandLine.Mixin
    ReportOptions reportOptions;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        EndToEndBenchmark.Settings settings;
        Workers w;
        try {
            settings = new EndToEndBenchmark.Settings(arch, samples, batchSize, forgetFraction, width, seed, warmup, alpha, lambda);
            w = new Workers(workers, Backends.cudaDevices(device.name));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (saveModel != null && !saveModel.getFileName().toString().endsWith(".safetensors")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--save-model must name a .safetensors file");
        }
        reportOptions.register(CliOutput.paths(spec.commandLine()).output("--save-model", saveModel)).check();
        EndToEndBenchmark.Report r;
        try (ai.lethe.kernels.Kernels kernels = device.open()) {
            r = EndToEndBenchmark.run(settings, kernels, w, saveModel);
        }
        reportOptions.emit(spec.commandLine(), r, out -> {
            out.printf(Locale.ROOT, "SSD on %s (%d parameters, model on %s, libtorch %s build), %s%n", r.arch(), r.parameters(), r.placement(),
                    r.libtorch(), r.device());
            out.printf(Locale.ROOT, "%d samples, %d forgotten, batch size %d, %d worker(s): %d parameters selected%n", r.samples(),
                    r.forgetSamples(), r.batchSize(), r.workers(), r.selected());
            r.seconds().forEach((k, v) -> out.printf(Locale.ROOT, "  %-18s %8.3f s%n", k, v));
            out.printf(Locale.ROOT, "importance passes: %.0f samples/s%n", r.samplesPerSecond());
        });
        return 0;
    }
}
