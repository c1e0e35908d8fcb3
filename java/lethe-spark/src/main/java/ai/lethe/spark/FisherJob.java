package ai.lethe.spark;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

import ai.lethe.importance.Estimator;
import ai.lethe.importance.Importance;
import ai.lethe.model.Model;
import ai.lethe.model.Models;
import ai.lethe.model.Weights;

/**
 * The entry point of the cluster jar ({@code spark-submit --class ai.lethe.spark.FisherJob lethe-spark-cluster.jar
 * --model M --data D --out I.safetensors [--estimator E] [--batch-size B] [--partitions P] [--train-limit N]
 * [--device cpu|auto] [--arch A] [--weights W]}): the importance over the full training set, written by the
 * driver to a local path, as {@code lethe fisher --spark} writes it.
 */
public final class FisherJob {

    private FisherJob() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new java.util.HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                usage("unexpected argument '" + args[i] + "'");
            }
            a.put(args[i].substring(2), args[++i]);
        }
        for (String required : new String[] {"model", "data", "out"}) {
            if (!a.containsKey(required)) {
                usage("--" + required + " is required");
            }
        }
        Estimator estimator = Estimator.parse(a.getOrDefault("estimator", "batch"));
        int batchSize = Integer.parseInt(a.getOrDefault("batch-size", "64"));
        Path out = Path.of(a.get("out"));
        long t = System.nanoTime();
        try (EmbeddedSpark spark = EmbeddedSpark.open(a.get("master"), Map.of());
             Model model = Models.load(Path.of(a.get("model")), a.get("arch"))) {
            if (a.containsKey("weights")) {
                Weights.load(model, Path.of(a.get("weights")));
            }
            Importance imp = SparkImportance.of(estimator, batchSize)
                    .partitions(Integer.parseInt(a.getOrDefault("partitions", "0")))
                    .device(a.getOrDefault("device", "auto"))
                    .compute(spark.context(), model, TrainingData.of(a.get("data"), Integer.parseInt(a.getOrDefault("train-limit", "0"))));
            imp.save(out);
            System.out.printf(Locale.ROOT, "wrote %s: %s importance over %s, %d samples, %s, %.2f s%n", out, estimator,
                    imp.provenance().data(), imp.samples(), imp.details().get("partitioning"), (System.nanoTime() - t) / 1e9);
        }
    }

    private static void usage(String message) {
        System.err.println("lethe FisherJob: " + message + "; usage: --model M --data D --out I.safetensors [--estimator E]"
                + " [--batch-size B] [--partitions P] [--train-limit N] [--device D] [--arch A] [--weights W] [--master URL]");
        System.exit(2);
    }
}
