package ai.lethe.cli;

import java.util.LinkedHashMap;
import java.util.Map;

import ai.lethe.Lethe;
import ai.lethe.importance.Importance;
import ai.lethe.spark.EmbeddedSpark;
import ai.lethe.spark.SparkImportance;
import ai.lethe.spark.TrainingData;
import picocli.CommandLine;

/**
 * {@code lethe fisher --spark MASTER}: the same pass and the same file as {@code lethe fisher}, computed by a Spark
 * job (in this process for local[N]). A class of its own so that Spark is only loaded when asked for.
 */
final class SparkFisher {

    private SparkFisher() {
    }

    static int run(CommandLine cmd, FisherCommand f) throws Exception {
        Map<String, String> conf = new LinkedHashMap<>();
        for (String kv : f.sparkConf) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new CommandLine.ParameterException(cmd, "--spark-conf takes KEY=VALUE, got '" + kv + "'");
            }
            conf.put(kv.substring(0, eq).strip(), kv.substring(eq + 1).strip());
        }
        f.checkPaths(cmd);
        SparkImportance job = SparkImportance.of(f.estimator, f.batchSize).partitions(f.sparkPartitions).device(f.device.name);
        TrainingData data = TrainingData.of(f.data.data, f.data.trainLimit);
        // The driver's own back end is not used for the pass; the scalar one opens nothing.
        try (Lethe lethe = f.model.open("scalar")) {
            long t = System.nanoTime();
            try (EmbeddedSpark spark = EmbeddedSpark.open(f.sparkMaster, conf)) {
                double startSeconds = (System.nanoTime() - t) / 1e9;
                long job0 = System.nanoTime();
                Importance imp = job.compute(spark.context(), lethe.model(), data);
                double jobSeconds = (System.nanoTime() - job0) / 1e9;
                imp.save(f.out);
                FisherCommand.Report r = FisherCommand.Report.of(f, imp, lethe.model().parameterCount(), (System.nanoTime() - t) / 1e9,
                        new FisherCommand.SparkRun(spark.master(), startSeconds, jobSeconds));
                f.reportOptions.emit(cmd, r, r::print);
            }
        }
        return 0;
    }
}
