package ai.lethe.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.ScalarKernels;
import ai.lethe.kernels.check.KernelChecks;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "selftest", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {
            "Checks every kernel of a back end against the plain-Java scalar reference: the checks the test suite runs "
                    + "(odd sizes 0, 1, 7, 15, 16, 17, 65, 4097, 1,000,003; lists of 62 and 200 tensors of mixed sizes; zeros, "
                    + "denormals, NaN and infinities; the spec's per-element rules; refused mismatched shapes) plus ResNet-18's "
                    + "62-tensor parameter list. Element-wise kernels must agree bit for bit.",
            "",
            "Needs no Maven and no libtorch, so it runs from the GPU kit: 'lethe selftest --device cuda'.",
            "Exit status: 0 when every check passes, 1 when any fails (or the back end cannot start)."
        })
final class SelftestCommand implements Callable<Integer> {

    @Mixin
    DeviceOption device;

    @Option(names = "--quick", description = "Leave out the ResNet-18-sized list (the test suite's set).")
    boolean quick;

    /** --json prints one JSON object instead of a line per check; --report also writes it to a file. */
    @Mixin
    ReportOptions reportOptions;

    record CheckResult(String name, boolean passed, double millis, String message) {
    }

    record Report(String device, String description, int checks, int failed, List<CheckResult> results) {
        /** The command's exit status: 0 when every check passed, 1 otherwise. */
        int exitStatus() {
            return failed == 0 ? 0 : 1;
        }
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws java.io.IOException {
        CommandLine cmd = spec.commandLine();
        reportOptions.register(CliOutput.paths(cmd)).check();
        try (Kernels kernels = device.open()) {
            PrintWriter out = cmd.getOut();
            Report r = check(kernels, !quick, reportOptions.json ? null : out);
            reportOptions.emit(cmd, r, o -> printSummary(o, r));
            return r.exitStatus();
        }
    }

    /** Runs every check on {@code kernels}; with {@code progress}, prints a line per check there as it ends. */
    static Report check(Kernels kernels, boolean resnet18, PrintWriter progress) {
        ScalarKernels reference = new ScalarKernels();
        List<CheckResult> results = new ArrayList<>();
        int failed = 0;
        if (progress != null) {
            progress.printf("selftest: %s against the scalar reference%n", kernels.description());
            progress.flush();
        }
        for (KernelChecks.Check c : KernelChecks.forBackend(kernels, resnet18)) {
            long t = System.nanoTime();
            String message = null;
            try {
                c.run(kernels, reference);
            } catch (AssertionError | RuntimeException e) {
                message = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
            double ms = (System.nanoTime() - t) / 1e6;
            results.add(new CheckResult(c.name(), message == null, ms, message));
            if (message != null) {
                failed++;
            }
            if (progress != null) {
                progress.printf(Locale.ROOT, "%-4s %9.1f ms  %s%s%n", message == null ? "ok" : "FAIL", ms, c.name(),
                        message == null ? "" : "\n       " + message);
                progress.flush();
            }
        }
        return new Report(kernels.name(), kernels.description(), results.size(), failed, results);
    }

    private static void printSummary(PrintWriter out, Report r) {
        out.printf("%d checks, %d failed on %s%n", r.checks(), r.failed(), r.description());
    }
}
