package ai.lethe.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

import ai.lethe.bench.KernelBenchmark;
import ai.lethe.bench.ParameterShapes;
import ai.lethe.kernels.Backends;
import ai.lethe.kernels.Kernels;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench",
        description = "Benchmarks. 'lethe bench kernels' measures every kernel's bandwidth against a same-run copy.",
        subcommands = {BenchCommand.Kernels.class},
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
                "Times each kernel over a parameter list (by default ResNet-18's 62 tensor shapes, 11,181,642 floats) and prints time, achieved GB/s and the ratio to a plain copy of the same buffers measured in the same run (CPU: a parallel array copy; CUDA: a device-to-device cudaMemcpy).",
                "",
                "GB/s counts the bytes each kernel must move (ALGORITHMS.md section 4): accumulate 12 B/param, ssd_dampen 16, ratio_reset 20, ratio_threshold (3 passes) 24, ratio_shift (2 passes) 24, scale_add 12, stats 4, copy 8. Figures are medians of back-to-back copy/kernel pairs, so machine noise hits both alike."
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

        @Option(names = "--json", description = "Print one JSON object instead of the table.")
        boolean json;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            if (params < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--params must be at least 1");
            }
            if (repetitions < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--repetitions must be at least 1");
            }
            long[] sizes = params == 11_181_642L ? ParameterShapes.resnet18() : ParameterShapes.resnet18Scaled(params);
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            try (ai.lethe.kernels.Kernels kernels = device.open()) {
                err.printf("bench kernels: %s, %d tensors, %,d floats, %d repetitions%n", kernels.description(),
                        sizes.length, ParameterShapes.total(sizes), repetitions);
                err.flush();
                KernelBenchmark.Report report = new KernelBenchmark(kernels, sizes, repetitions).run(json ? null : line -> {
                    out.println(line);
                    out.flush();
                });
                if (json) {
                    out.println(Json.write(report));
                }
            }
            return 0;
        }
    }
}
