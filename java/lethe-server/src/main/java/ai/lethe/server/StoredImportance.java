package ai.lethe.server;

/**
 * A D-importance (over the full training set) of one model with one set of settings; computed once by its
 * job and reused by forget jobs that name it.
 *
 * @param file the importance file, relative to the data directory (complete once the job has succeeded)
 * @param job  the job that computes it (the latest one, when an earlier attempt failed)
 */
record StoredImportance(String id, String model, String data, int trainLimit, String estimator, int batchSize,
                        String file, String job, String createdAt) {
}
