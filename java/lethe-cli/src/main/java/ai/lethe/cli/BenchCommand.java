package ai.lethe.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.concurrent.Callable;

import ai.lethe.ForgetRequest;
import ai.lethe.bench.ForgetBenchmark;
import ai.lethe.bench.KernelBenchmark;
import ai.lethe.bench.ParameterShapes;
import ai.lethe.bench.ProfilerOverheadBenchmark;
import ai.lethe.data.ForgetSet;
import ai.lethe.kernels.Backends;
import ai.lethe.kernels.Kernels;
import ai.lethe.method.Method;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench",
        description = "Benchmarks: 'lethe bench kernels' (kernel bandwidth against a same-run copy), 'lethe bench forget' (a forget request, and a second one that reuses the stored I_D), 'lethe bench profiler' (what the profiler's instrumentation costs, off and on) 'lethe bench per-sample' (the per-sample estimator's fast path against the one-sample loop) and 'lethe bench e2e' (SSD end to end by phase, to compare with scripts/pytorch_ssd_gpu.py on the same device).",
        subcommands = {BenchCommand.Kernels.class, BenchCommand.Forget.class, BenchCommand.ProfilerOverhead.class,
            BenchPerSampleCommand.class, BenchE2eCommand.class},
        mixinStandardHelpOptions = true)
final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing what to benchmark: try 'lethe bench kernels'");
    }

    @Command(name = "kernels",
            mixinStandardHelpOptions = true,
            usageHelpAutoWidth = true,
            description = {
                "Times each kernel over a parameter list (by default ResNet-18's 62 tensor shapes, 11,181,642 floats) and prints time, achieved GB/s and the ratio to ONE contiguous copy of as many floats measured in the same run (CUDA: a single device-to-device cudaMemcpyAsync timed with events on the kernels' stream; CPU: the back end's copy over one array). On CUDA each kernel is also given as a fraction of the device's peak memory bandwidth (memory clock x bus width, as the driver reports them).",
                "",
                "GB/s counts the bytes each kernel's passes move (docs/algorithms.md, section 6): accumulate 12 B/param, ssd_dampen 16, ratio_reset 20, ratio_threshold (3 passes) 24, ratio_shift (2 passes) 24, scale_add 12, stats 4, copy 8. Figures are medians of back-to-back copy/kernel pairs, so machine noise hits both alike.",
                "",
                "Then the per-call latency of each kernel on a small list, the bundled CNN's 8 tensors (105,866 floats), where launches rather than bytes bound it; on CUDA against one launch of an empty kernel."
            })
    static final class Kernels implements Callable<Integer> {

        @Option(names = "--params", paramLabel = "N",
                description = "Total floats: ResNet-18's 62 shapes rescaled to N (default: ${DEFAULT-VALUE}).",
                defaultValue = "11181642")
        long params;

        @CommandLine.Mixin
        DeviceOption device;

        @Option(names = "--repetitions", paramLabel = "R", defaultValue = "15",
                description = "Timed copy/kernel pairs per kernel (default: ${DEFAULT-VALUE}).")
        int repetitions;

        /** --json prints one JSON object instead of the table; --report also writes it to a file. */
        @CommandLine.Mixin
        ReportOptions reportOptions;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            if (params < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--params must be at least 1");
            }
            if (repetitions < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--repetitions must be at least 1");
            }
            reportOptions.register(CliOutput.paths(spec.commandLine())).check();
            long[] sizes = params == 11_181_642L ? ParameterShapes.resnet18() : ParameterShapes.resnet18Scaled(params);
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            try (ai.lethe.kernels.Kernels kernels = device.open()) {
                err.printf("bench kernels: %s, %d tensors, %,d floats, %d repetitions%n", kernels.description(),
                        sizes.length, ParameterShapes.total(sizes), repetitions);
                err.flush();
                KernelBenchmark.Report report = new KernelBenchmark(kernels, sizes, repetitions).run(reportOptions.json ? null : line -> {
                    out.println(line);
                    out.flush();
                });
                reportOptions.emit(spec.commandLine(), report, table -> {
                    // the table was printed line by line as the benchmark ran
                });
            }
            return 0;
        }
    }

    @Command(name = "forget",
            mixinStandardHelpOptions = true,
            usageHelpAutoWidth = true,
            description = {
                "Times forget requests the way a long-running service sees them: in one JVM, after a warm-up request, R times a first request (computes I_D and I_f) and a second one that reuses the stored I_D, each on a freshly loaded model. Prints the medians of the engine's timings (importance passes and update; loading, evaluation and saving excluded) and the speed-up of the second request.",
                "",
                "Default: the bundled Fashion-MNIST CNN, the first 10,000 training images, forget class 1, SSD."
            })
    static final class Forget implements Callable<Integer> {

        @CommandLine.Mixin
        RequestOptions options;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (options.method != Method.SSD && options.method != Method.LFSSD) {
                throw new CommandLine.ParameterException(spec.commandLine(), "bench forget times ssd or lfssd (the methods with a reusable I_D)");
            }
            ForgetRequest request = options.request(spec.commandLine());
            try (ModelFile m = ModelFile.orBundled(options.model)) {
                ForgetBenchmark.Report r = ForgetBenchmark.run(m.path(), options.device.name, request, options.repetitions);
                options.output.emit(spec.commandLine(), r, out -> {
                    out.printf(Locale.ROOT, "%s, %s on %s, forgetting %s; medians of %d pairs after a warm-up request%n",
                            r.device(), r.method(), r.data(), r.forgetSet(), r.repetitions());
                    out.printf(Locale.ROOT, "first request:  %.3f s (I_D %.3f s, I_f %.3f s)%n", r.firstSeconds(),
                            r.firstImportanceFull(), r.firstImportanceForget());
                    out.printf(Locale.ROOT, "second request: %.3f s (stored I_D loaded in %.3f s, I_f %.3f s) -> %.1fx faster%n",
                            r.secondSeconds(), r.secondLoadImportanceFull(), r.secondImportanceForget(), r.speedup());
                });
            }
            return 0;
        }
    }

    @Command(name = "profiler",
            mixinStandardHelpOptions = true,
            usageHelpAutoWidth = true,
            description = {
                "What the profiler's instrumentation costs. The phase spans stay in the code for good; while nothing is recorded each is a volatile read. In one JVM, after a warm-up request, R times a plain forget request and a profiled one; then the cost of one disabled span is measured. Prints: cost when off = spans per request x cost of a disabled span / plain request time, and cost when on = profiled time / plain time - 1.",
                "",
                "Default: the bundled Fashion-MNIST CNN, the first 10,000 training images, forget class 1, SSD, no evaluation."
            })
    static final class ProfilerOverhead implements Callable<Integer> {

        @CommandLine.Mixin
        RequestOptions options;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            ForgetRequest request = options.request(spec.commandLine());
            try (ModelFile m = ModelFile.orBundled(options.model)) {
                ProfilerOverheadBenchmark.Report r =
                        ProfilerOverheadBenchmark.run(m.path(), options.device.name, request, options.repetitions);
                options.output.emit(spec.commandLine(), r, out -> {
                    out.printf(Locale.ROOT, "%s, %s forgetting %s; medians of %d pairs after a warm-up request%n", r.device(),
                            r.method(), r.forgetSet(), r.repetitions());
                    out.printf(Locale.ROOT, "plain request %.3f s, profiled request %.3f s; %d spans and %d kernel calls per request%n",
                            r.plainSeconds(), r.profiledSeconds(), r.spansPerRequest(), r.kernelCallsPerRequest());
                    out.printf(Locale.ROOT, "disabled span: %.2f ns -> cost when off %.2e of the request (%.5f%%)%n", r.disabledSpanNanos(), r.overheadOff(),
                            r.overheadOff() * 100);
                    out.printf(Locale.ROOT, "cost when on (recording, kernel decorator): %+.1f%%%n", r.overheadOn() * 100);
                });
            }
            return 0;
        }
    }

    /** What the request benchmarks run: model, data, class, method, repetitions, device. */
    static final class RequestOptions {

        @Option(names = "--model", paramLabel = "M.pt", description = "Model (default: the bundled demo CNN).")
        Path model;

        @Option(names = "--data", paramLabel = "DATA", defaultValue = "fashion-mnist", description = "Data (default: ${DEFAULT-VALUE}).")
        String data;

        @Option(names = "--train-limit", paramLabel = "N", defaultValue = "10000", description = "Training samples (default: ${DEFAULT-VALUE}).")
        int trainLimit;

        @Option(names = "--forget-class", paramLabel = "C", defaultValue = "1", description = "Class to forget (default: ${DEFAULT-VALUE}).")
        int forgetClass;

        @Option(names = "--method", paramLabel = "METHOD", defaultValue = "ssd", converter = Converters.MethodConverter.class,
                description = "Method (default: ${DEFAULT-VALUE}; bench forget takes ssd or lfssd).")
        Method method;

        @Option(names = "--repetitions", paramLabel = "R", defaultValue = "3", description = "Pairs of requests (default: ${DEFAULT-VALUE}).")
        int repetitions;

        /** --json prints one JSON object; --report also writes it to a file. */
        @CommandLine.Mixin
        ReportOptions output;

        @CommandLine.Mixin
        DeviceOption device;

        /** The request to time, its settings and the output paths checked first. */
        ForgetRequest request(CommandLine cmd) {
            if (repetitions < 1) {
                throw new CommandLine.ParameterException(cmd, "--repetitions must be at least 1");
            }
            output.register(CliOutput.paths(cmd).input("--model", model).data(data)).check();
            try {
                ForgetRequest request = ForgetRequest.of(data, ForgetSet.classes(forgetClass)).method(method).trainLimit(trainLimit);
                request.validate();
                return request;
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(cmd, e.getMessage());
            }
        }
    }

    /** The model a benchmark runs on: the given file, or the bundled demo CNN copied to a temporary file. */
    private record ModelFile(Path path, boolean temporary) implements AutoCloseable {

        static ModelFile orBundled(Path model) throws IOException {
            if (model != null) {
                return new ModelFile(model, false);
            }
            Path tmp = Files.createTempFile("lethe-bench-", ".pt");
            try (InputStream in = BenchCommand.class.getResourceAsStream("/ai/lethe/demo/fmnist-cnn.pt")) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            return new ModelFile(tmp, true);
        }

        @Override
        public void close() throws IOException {
            if (temporary) {
                Files.deleteIfExists(path);
            }
        }
    }
}
