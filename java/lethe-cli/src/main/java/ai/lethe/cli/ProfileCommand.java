package ai.lethe.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import ai.lethe.ForgetRequest;
import ai.lethe.Lethe;
import ai.lethe.profile.ProfileReport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "profile", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        modelTransformer = MethodOptions.Generated.class,
        description = {
            "Runs a forget request (the same options as 'lethe forget', with --out optional) under the profiler and reports where the time went.",
            "",
            "Per phase and thread (read/decode, h2d, forward, backward, accumulate, update, evaluate): calls, total and self time, share of the wall time. "
                    + "Per kernel: calls, time and GB/s against a copy of the same size measured on the same back end in the same run. "
                    + "Per parameter tensor: mean and max of I_D and I_f, the fraction SSD's rule selects, the fraction changed, the fraction of non-finite values.",
            "",
            "Writes DIR/profile.json, DIR/trace.json (Chrome trace format, one track per thread: open in chrome://tracing or ui.perfetto.dev), "
                    + "DIR/profile.html with phases.png, layers.png and ratios.png. On CUDA every phase is also an NVTX range, so "
                    + "'nsys profile ./lethe profile ...' shows the same names.",
            "",
            "Example: lethe profile --model m.pt --data fashion-mnist --forget-class 1 --method ssd --profile-dir prof"
        })
final class ProfileCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Mixin
    DataOptions data;

    @Mixin
    ForgetSetOptions forget;

    @Mixin
    MethodOptions methodOptions;

    @Option(names = "--profile-dir", paramLabel = "DIR", defaultValue = "lethe-profile",
            description = "Where to write profile.json, trace.json, profile.html and the charts (default: ${DEFAULT-VALUE}).")
    Path profileDir;

    @Option(names = "--out", paramLabel = "OUT.pt", description = "Also write the changed model (TorchScript, or safetensors by the name).")
    Path out;

    /** --report writes the forget report (as 'lethe forget --report' does); --json prints profile.json's summary. */
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
        CommandLine cmd = spec.commandLine();
        if (Files.exists(profileDir) && !Files.isDirectory(profileDir)) {
            throw new CommandLine.ParameterException(cmd, "--profile-dir " + profileDir + " exists and is not a directory");
        }
        CliOutput.Paths paths = methodOptions.paths(cmd, forget.inputs(model.inputs(CliOutput.paths(cmd)))).data(data.data)
                .output("--out", out);
        reportOptions.register(paths);
        for (String f : ProfileReport.FILES) {
            paths.output("--profile-dir", profileDir.resolve(f));
        }
        paths.check();
        ForgetRequest request = methodOptions.request(cmd, data, forget);
        try (Lethe lethe = dataOnDevice.applyTo(workersOption.applyTo(model.open(device.name))).progress(progressOptions.progress())) {
            if (out != null) {
                lethe.requireSavable(out);
            }
            ProfileReport r = lethe.profile(request);
            if (out != null) {
                lethe.save(out);
            }
            r.write(profileDir);
            if (reportOptions.report != null) {
                ai.lethe.io.AtomicFiles.writeString(reportOptions.report, Json.write(r.forget()) + "\n");
            }
            if (reportOptions.json) {
                cmd.getOut().println(Json.write(r.summary()));
            } else {
                cmd.getOut().print(r.table());
                cmd.getOut().printf("%nwrote %s/profile.json, trace.json, profile.html, phases.png, layers.png, ratios.png%n", profileDir);
            }
            cmd.getOut().flush();
            for (String note : r.forget().notes()) {
                cmd.getErr().println("note: " + note);
            }
        }
        return 0;
    }
}
