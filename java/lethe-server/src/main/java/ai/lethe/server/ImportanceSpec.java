package ai.lethe.server;

import ai.lethe.importance.Estimator;

/**
 * The body of {@code POST /models/{id}/importances}: the D-importance over the full training set of
 * {@code data} (its first {@code train_limit} samples; 0 = all), with an estimator (batch for SSD, the default;
 * label-free for LFSSD; per-sample) and batch size (default 64).
 */
record ImportanceSpec(String data, Integer trainLimit, String estimator, Integer batchSize) {

    /** With defaults filled in and the data spec confined and made real; a 400 with the reason otherwise. */
    ImportanceSpec normalized(PathGuard guard) {
        String dataSpec = guard.dataSpec(data);
        int limit = trainLimit == null ? 0 : trainLimit;
        if (limit < 0) {
            throw ApiException.badRequest("'train_limit' must not be negative, got " + limit);
        }
        int batch = batchSize == null ? 64 : batchSize;
        if (batch < 1) {
            throw ApiException.badRequest("'batch_size' must be at least 1, got " + batch);
        }
        Estimator est;
        try {
            est = Estimator.parse(estimator == null ? "batch" : estimator);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(ApiErrors.message(e));
        }
        return new ImportanceSpec(dataSpec, limit, est.id(), batch);
    }
}
