package ai.lethe.server;

import java.util.List;

/**
 * A job as the database holds it.
 *
 * @param request    the accepted request as JSON (a {@link ForgetJobSpec} or {@link ImportanceSpec}), with
 *                   server-side paths already confined and made real
 * @param importance the importance this job computes (importance jobs) or reuses (forget jobs); else null
 * @param attempts   how many times a worker has started it
 * @param phase      the current or last task, e.g. "importance over D (2000 samples)"; null before the start
 * @param done       units of the phase done
 * @param total      units of the phase in all (0 if unknown)
 * @param unit       what the units are, e.g. "batches"
 * @param error      why it failed or was cancelled; null otherwise
 * @param notes      what happened to it on the way (restarts) and what the run noted
 * @param resultFile the forgotten model (forget jobs), relative to the data directory; null until succeeded
 * @param reportFile the JSON report (forget jobs), relative to the data directory; null until succeeded
 */
record StoredJob(String id, JobKind kind, String model, String importance, String request, JobState state,
                 int attempts, String phase, long done, long total, String unit, String error, List<String> notes,
                 String resultFile, String reportFile, String createdAt, String startedAt, String finishedAt) {
}
