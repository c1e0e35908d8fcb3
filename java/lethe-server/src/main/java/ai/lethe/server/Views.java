package ai.lethe.server;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

/** What the API returns for each resource (serialised with snake_case keys); openapi.json describes the same shapes. */
final class Views {

    private Views() {
    }

    record ModelView(String id, String name, String format, String baseModel, String source, String fingerprint,
                     long parameters, long sizeBytes, String createdAt) {
    }

    /**
     * @param fraction done / total, or null while the total is unknown
     */
    record ProgressView(String phase, long done, long total, String unit, Double fraction) {
    }

    record JobView(String id, JobKind kind, JobState state, String model, String importance, JsonNode request,
                   ProgressView progress, int attempts, String error, List<String> notes, String createdAt,
                   String startedAt, String finishedAt, Map<String, String> links) {
    }

    /** An importance and the state of the job that computes it. */
    record ImportanceView(String id, String model, JobState state, String job, String error, String data, int trainLimit,
                          String estimator, int batchSize, String createdAt) {
    }

    record HealthView(String status, String version, String backend, int workers, int queued, int running, int queueLimit,
                      boolean tokenRequired) {
    }

    record ModelList(List<ModelView> models) {
    }

    record JobList(List<JobView> jobs) {
    }

    record ImportanceList(List<ImportanceView> importances) {
    }

    static ModelView model(StoredModel m) {
        return new ModelView(m.id(), m.name(), m.format(), m.baseModel(), m.source(), m.fingerprint(), m.parameters(),
                m.sizeBytes(), m.createdAt());
    }

    /** A job; {@code live} is the in-memory progress of a job running now (fresher than the stored one), or null. */
    static JobView job(StoredJob j, JobProgress.Snapshot live) {
        JobProgress.Snapshot p = live != null && j.state() == JobState.RUNNING ? live
                : new JobProgress.Snapshot(j.phase(), j.done(), j.total(), j.unit());
        Double fraction = null;
        if (p.total() > 0) {
            fraction = Math.min(1.0, (double) p.done() / p.total());
        } else if (j.state() == JobState.SUCCEEDED) {
            fraction = 1.0;
        }
        ProgressView progress = new ProgressView(p.phase(), p.done(), p.total(), p.unit(), fraction);
        Map<String, String> links = new LinkedHashMap<>();
        links.put("self", "/jobs/" + j.id());
        if (j.kind() == JobKind.FORGET) {
            links.put("report", "/jobs/" + j.id() + "/report");
            links.put("model", "/jobs/" + j.id() + "/model");
        } else {
            links.put("importance", "/importances/" + j.importance());
        }
        JsonNode request;
        try {
            request = Json.MAPPER.readTree(j.request());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored request of " + j.id() + " is unreadable", e);
        }
        return new JobView(j.id(), j.kind(), j.state(), j.model(), j.importance(), request, progress, j.attempts(), j.error(),
                j.notes(), j.createdAt(), j.startedAt(), j.finishedAt(), links);
    }

    static ImportanceView importance(StoredImportance i, StoredJob job) {
        return new ImportanceView(i.id(), i.model(), job.state(), job.id(), job.error(), i.data(), i.trainLimit(), i.estimator(),
                i.batchSize(), i.createdAt());
    }
}
