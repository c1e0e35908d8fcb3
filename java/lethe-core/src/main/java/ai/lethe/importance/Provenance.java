package ai.lethe.importance;

import java.util.LinkedHashMap;
import java.util.Map;

import ai.lethe.io.LetheFormatException;

/**
 * Where an importance came from, stored in its file's metadata so that a stored D-importance is only
 * reused for the same model and the same settings.
 *
 * @param modelFingerprint {@link ai.lethe.model.Model#fingerprint()} of the model it was computed on
 * @param estimator        the estimator
 * @param batchSize        batch size of the pass (matters for batch-dependent estimators)
 * @param data             description of the training data (dataset, split, limit)
 * @param subset           full, forget or retain
 * @param order            file (plain file order) or retain-then-forget (the SSD reference's order of D)
 * @param forgetSet        description of the forget set the subset or order refers to ("" for none)
 */
public record Provenance(String modelFingerprint, Estimator estimator, int batchSize, String data, String subset,
                         String order, String forgetSet) {

    public static final String FORMAT = "lethe-importance/1";

    /** The metadata keys {@link #toMetadata} writes (the rest of an importance file's metadata are its details). */
    static final java.util.Set<String> RESERVED_KEYS = java.util.Set.of("format", "model_fingerprint", "estimator",
            "batch_size", "data", "subset", "order", "forget_set", "count", "normalisation");

    /**
     * Refuses a safetensors file whose metadata marks it as an importance file where {@code expected} (weights, a
     * model) is wanted: its tensors carry parameter names and shapes, so it would otherwise load without complaint.
     */
    public static void refuseImportance(Map<String, String> metadata, java.nio.file.Path path, String expected)
            throws ai.lethe.io.LetheFormatException {
        if (FORMAT.equals(metadata.get("format"))) {
            throw new ai.lethe.io.LetheFormatException(path + " holds importances (from 'lethe fisher' or --save-importances),"
                    + " not " + expected);
        }
    }

    Map<String, String> toMetadata(long count) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("model_fingerprint", modelFingerprint);
        m.put("estimator", estimator.id());
        m.put("batch_size", Integer.toString(batchSize));
        m.put("data", data);
        m.put("subset", subset);
        m.put("order", order);
        m.put("forget_set", forgetSet);
        m.put("count", Long.toString(count));
        m.put("normalisation", estimator.perSample() ? "sum / samples" : "sum / batches");
        return m;
    }

    static Provenance fromMetadata(Map<String, String> m, String file) {
        String format = m.get("format");
        if (!FORMAT.equals(format)) {
            throw new IllegalArgumentException(file + " is not a Lethe importance file (metadata format="
                    + LetheFormatException.printable(format) + ", expected " + FORMAT + ")");
        }
        try {
            return new Provenance(m.get("model_fingerprint"), Estimator.parse(m.get("estimator")),
                    Integer.parseInt(m.get("batch_size")), m.get("data"), m.get("subset"), m.get("order"),
                    m.getOrDefault("forget_set", ""));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + ": corrupt importance metadata ("
                    + LetheFormatException.printable(e.getMessage()) + ")", e);
        }
    }
}
