package ai.lethe.server;

import java.nio.file.Path;
import java.util.Locale;

import ai.lethe.ForgetRequest;
import ai.lethe.importance.Estimator;
import ai.lethe.method.Method;

/**
 * The body of {@code POST /jobs}: which model forgets what, how, and on which data. Absent fields take the
 * CLI's defaults (ssd, alpha 10, lambda 1, batch size 64, the method's estimator, evaluation on, all training
 * samples, TorchScript output). With {@code importance}, the stored D-importance is reused, and data, train
 * limit, batch size and estimator default to the importance's own.
 */
record ForgetJobSpec(String model, String data, Integer trainLimit, ForgetSetSpec forget, String method, Double alpha,
                     Double lambda, Integer batchSize, String estimator, String importance, Boolean evaluate,
                     String output) {

    static final String TORCHSCRIPT = "torchscript";
    static final String SAFETENSORS = "safetensors";

    /**
     * This request with every default filled in, the data spec confined and made real, and the settings checked
     * by the core; a 400 with the reason otherwise. {@code stored} is the importance the request names (null for
     * none); its settings fill what the request leaves out and must agree with what it states.
     */
    ForgetJobSpec normalized(PathGuard guard, StoredImportance stored) {
        if (model == null || model.isBlank()) {
            throw ApiException.badRequest("'model' is required: the id of a registered model");
        }
        if (forget == null) {
            throw ApiException.badRequest("'forget' is required: {\"classes\": [...]}, {\"indices\": [...]} or {\"random\": FRACTION}");
        }
        forget.toForgetSet();
        Method m = parse(() -> Method.parse(method == null ? "ssd" : method));
        Estimator requested = estimator == null ? null : parse(() -> Estimator.parse(estimator));
        Estimator est = parse(() -> m.estimator(requested));
        String dataSpec = data == null && stored != null ? stored.data() : guard.dataSpec(data);
        int limit = trainLimit == null ? (stored != null ? stored.trainLimit() : 0) : trainLimit;
        int batch = batchSize == null ? (stored != null ? stored.batchSize() : 64) : batchSize;
        if (stored != null) {
            requireSame("data", dataSpec, stored.data(), stored);
            requireSame("train_limit", limit, stored.trainLimit(), stored);
            requireSame("estimator", est.id(), stored.estimator(), stored);
            if (est.dependsOnBatching()) {
                requireSame("batch_size", batch, stored.batchSize(), stored);
            }
        }
        String out = output == null ? TORCHSCRIPT : output.strip().toLowerCase(Locale.ROOT);
        if (!out.equals(TORCHSCRIPT) && !out.equals(SAFETENSORS)) {
            throw ApiException.badRequest("unknown output '" + output + "' (expected torchscript or safetensors)");
        }
        ForgetJobSpec n = new ForgetJobSpec(model, dataSpec, limit, forget, m.id(), alpha == null ? 10.0 : alpha,
                lambda == null ? 1.0 : lambda, batch, est.id(), importance, evaluate == null || evaluate, out);
        parse(() -> {
            n.toForgetRequest(null).validate();
            return null;
        });
        return n;
    }

    /** The core request of a normalized spec; {@code importanceFile} is the stored D-importance to reuse, or null. */
    ForgetRequest toForgetRequest(Path importanceFile) {
        return ForgetRequest.of(data, forget.toForgetSet()).method(Method.parse(method)).estimator(Estimator.parse(estimator))
                .alpha(alpha).lambda(lambda).batchSize(batchSize).trainLimit(trainLimit).retainImportance(importanceFile)
                .evaluate(evaluate);
    }

    /** The file name of the forgotten model. */
    String outputFileName() {
        return SAFETENSORS.equals(output) ? "model.safetensors" : "model.pt";
    }

    private static void requireSame(String field, Object requested, Object stored, StoredImportance imp) {
        if (!requested.equals(stored)) {
            throw ApiException.badRequest("'" + field + "' is " + requested + " but importance " + imp.id() + " was computed with "
                    + stored + "; leave it out or compute an importance with these settings");
        }
    }

    /** Runs a core parser or check, turning its IllegalArgumentException into a 400 with the same message. */
    private static <T> T parse(java.util.function.Supplier<T> parser) {
        try {
            return parser.get();
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(ApiErrors.inApiTerms(e.getMessage()));
        }
    }
}
