package ai.lethe.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import ai.lethe.Lethe;
import ai.lethe.importance.Estimator;
import ai.lethe.importance.Importance;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "fisher", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {
            "Computes a diagonal importance (Fisher information or its label-free stand-in) of every parameter and writes it as safetensors, with the model's fingerprint and the settings in its metadata.",
            "",
            "An importance over the full training set can be stored once and reused by later 'lethe forget --retain-importance' requests on the same model. With a forget set, --subset full batches D as the SSD reference does (retain samples, then forget samples); without one, in file order."
        })
final class FisherCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Mixin
    DataOptions data;

    @Option(names = "--subset", paramLabel = "SUBSET", defaultValue = "full",
            description = "full, forget or retain (default: ${DEFAULT-VALUE}); forget and retain need a forget set.")
    String subset;

    @Mixin
    ForgetSetOptions forget;

    @Option(names = "--estimator", paramLabel = "E", defaultValue = "batch", converter = Converters.EstimatorConverter.class,
            description = "batch (SSD reference), label-free (LFSSD) or per-sample (exact empirical Fisher) (default: ${DEFAULT-VALUE}).")
    Estimator estimator;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "64", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--out", required = true, paramLabel = "I.safetensors", description = "Where to write the importance.")
    Path out;

    /** --report writes what was computed (the lines printed, as JSON); --json prints that instead of the lines. */
    @Mixin
    ReportOptions reportOptions;

    @Mixin
    DeviceOption device;

    @Mixin
    WorkersOption workersOption;

    @Option(names = "--spark", paramLabel = "MASTER",
            description = "Run the pass as an Apache Spark job: local[N] runs Spark inside this process on N threads (failed tasks retried), spark://HOST:PORT uses a standalone cluster whose executors see the same --data files and run this build's jars. Only --subset full without a forget set.")
    String sparkMaster;

    @Option(names = "--spark-partitions", paramLabel = "P", defaultValue = "0",
            description = "Tasks the data is cut into (default 0: twice Spark's default parallelism); batch-dependent estimators are cut at multiples of the batch size.")
    int sparkPartitions;

    @Option(names = "--spark-conf", paramLabel = "KEY=VALUE",
            description = "A Spark setting (repeatable), for example spark.executor.resource.gpu.amount=1.")
    java.util.List<String> sparkConf = new java.util.ArrayList<>();

    @Mixin
    ProgressOptions progressOptions;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommandLine cmd = spec.commandLine();
        if (!subset.equals("full") && !subset.equals("forget") && !subset.equals("retain")) {
            throw new CommandLine.ParameterException(cmd, "--subset must be full, forget or retain, got '" + subset + "'");
        }
        if (!subset.equals("full") && !forget.present()) {
            throw new CommandLine.ParameterException(cmd, "--subset " + subset
                    + " needs a forget set (--forget-class, --forget-indices or --forget-random)");
        }
        if (batchSize < 1) {
            throw new CommandLine.ParameterException(cmd, "--batch-size must be at least 1");
        }
        if (sparkMaster == null && (sparkPartitions != 0 || !sparkConf.isEmpty())) {
            throw new CommandLine.ParameterException(cmd, "--spark-partitions and --spark-conf need --spark");
        }
        if (sparkMaster != null) {
            if (!subset.equals("full") || forget.present()) {
                throw new CommandLine.ParameterException(cmd, "--spark computes the importance over the full training set in"
                        + " file order: it takes no --subset and no forget set");
            }
            if (sparkPartitions < 0) {
                throw new CommandLine.ParameterException(cmd, "--spark-partitions must be positive");
            }
            return SparkFisher.run(cmd, this);
        }
        checkPaths(cmd);
        try (Lethe lethe = workersOption.applyTo(model.open(device.name)).progress(progressOptions.progress())) {
            long t = System.nanoTime();
            Importance imp = lethe.importance(data.data, data.trainLimit, subset, forget.optional(cmd), estimator, batchSize);
            imp.save(out);
            Report r = Report.of(this, imp, lethe.model().parameterCount(), (System.nanoTime() - t) / 1e9, null);
            reportOptions.emit(cmd, r, r::print);
        }
        return 0;
    }

    /** The files this command reads and writes, checked before any work (also for --spark). */
    void checkPaths(CommandLine cmd) {
        reportOptions.register(forget.inputs(model.inputs(CliOutput.paths(cmd))).data(data.data).output("--out", out)).check();
        CliOutput.requireSafetensorsName(cmd, "--out", out, "importances are safetensors");
    }

    /** What a fisher run wrote, as --report and --json give it; {@code spark} is null unless it ran with --spark. */
    record Report(String out, String estimator, String subset, String data, int tensors, long values, long count, String counted,
                  double seconds, String computation, Map<String, String> details, SparkRun spark) {

        static Report of(FisherCommand f, Importance imp, long values, double seconds, SparkRun spark) {
            return new Report(f.out.toString(), f.estimator.toString(), f.subset, imp.provenance().data(), imp.parameters().size(),
                    values, imp.count(), f.estimator.perSample() ? "samples" : "batches", seconds, imp.computation(),
                    imp.details(), spark);
        }

        void print(PrintWriter o) {
            o.printf(Locale.ROOT, "wrote %s: %s importance over the %s subset of %s, %d tensors, %,d values, %d %s, %.2f s%n",
                    out, estimator, subset, data, tensors, values, count, counted, seconds);
            if (computation != null && spark == null) {
                o.printf(Locale.ROOT, "computed with the %s%n", computation);
            }
            if (spark != null) {
                o.printf(Locale.ROOT, "spark %s: %s; %s reduction on %s; %.2f s to start Spark, %.2f s the job%n",
                        spark.master(), details.get("partitioning"), details.get("reduction"), details.get("devices"),
                        spark.startSeconds(), spark.jobSeconds());
            }
        }
    }

    /** How a --spark run went: the master it ran on, the seconds to start Spark and those of the job. */
    record SparkRun(String master, double startSeconds, double jobSeconds) {
    }
}
