package ai.lethe.server;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.core.type.TypeReference;

/**
 * Models, importances and jobs in an embedded SQLite database. Every change is one transaction, committed
 * with {@code synchronous=FULL} before the caller answers the client, so an accepted job survives
 * {@code kill -9} and power loss. The jobs table is also the work queue: workers claim the oldest queued job.
 *
 * <p>One connection, used under this object's lock: the server's writes are few and small, and one writer
 * is what SQLite wants anyway.
 */
final class JobStore implements AutoCloseable {

    /** The schema this code reads and writes (PRAGMA user_version). */
    static final int SCHEMA_VERSION = 1;

    /** A submission beyond the queue limit. */
    static final class QueueFullException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        QueueFullException(int queued, int limit) {
            super("the job queue is full (" + queued + " jobs waiting, limit " + limit + "); retry when some have finished");
        }
    }

    /** A database failure; the request or job fails with it (500). */
    static final class StoreException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StoreException(String what, SQLException e) {
            super("database error while " + what + ": " + e.getMessage(), e);
        }
    }

    /** What {@link #submitImportance} did: the importance, its job, and whether a new job was queued. */
    record ImportanceSubmission(StoredImportance importance, StoredJob job, boolean queued) {
    }

    /** What {@link #recoverInterrupted} did with one job found running at startup. */
    record Recovery(String jobId, boolean requeued, String note) {
    }

    /** Counts by state, for /health. */
    record Counts(int queued, int running) {
    }

    private static final TypeReference<List<String>> NOTES = new TypeReference<>() {
    };

    private static final String JOB_COLUMNS = "id, kind, model_id, importance_id, request, state, attempts, phase, done, total,"
            + " unit, error, notes, result_file, report_file, created_at, started_at, finished_at";

    private final Connection db;

    private JobStore(Connection db) {
        this.db = db;
    }

    /** Opens (creating if needed) the database file and brings its schema up to date. */
    static JobStore open(Path file) {
        try {
            Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
            requireIntact(c, file);
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=FULL");
                s.execute("PRAGMA foreign_keys=ON");
                s.execute("PRAGMA busy_timeout=10000");
            }
            JobStore store = new JobStore(c);
            store.migrate();
            return store;
        } catch (SQLException e) {
            throw new StoreException("opening " + file, e);
        }
    }

    /**
     * Refuses, before anything is written, a file that is not an SQLite database or fails SQLite's quick check: the
     * server must not start over a damaged store (it would lose jobs or recreate tables), and the file is left
     * as it was for the operator to restore or inspect.
     */
    private static void requireIntact(Connection c, Path file) throws SQLException {
        String problem;
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("PRAGMA quick_check(5)")) {
            List<String> lines = new ArrayList<>();
            while (r.next()) {
                lines.add(r.getString(1));
            }
            problem = lines.equals(List.of("ok")) ? null : "damaged (SQLite's quick check: " + String.join("; ", lines) + ")";
        } catch (SQLException e) {
            String m = String.valueOf(e.getMessage());
            if (!m.contains("SQLITE_NOTADB") && !m.contains("SQLITE_CORRUPT")) {
                c.close();
                throw e;
            }
            problem = m.contains("SQLITE_NOTADB") ? "not a Lethe database (SQLite: file is not a database)"
                    : "damaged (SQLite: " + m.replace('\n', ' ') + ")";
        }
        if (problem != null) {
            c.close();
            throw new IllegalStateException(file + " is " + problem + "; it was left untouched: restore it from a backup or "
                    + "move it away to start with an empty store");
        }
    }

    private void migrate() throws SQLException {
        int version;
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery("PRAGMA user_version")) {
            version = r.getInt(1);
        }
        if (version > SCHEMA_VERSION) {
            throw new IllegalStateException("the database was written by a newer Lethe (schema " + version
                    + ", this one knows " + SCHEMA_VERSION + ")");
        }
        if (version == SCHEMA_VERSION) {
            return;
        }
        db.setAutoCommit(false);
        try (Statement s = db.createStatement()) {
            s.execute("CREATE TABLE models ("
                    + " id TEXT PRIMARY KEY, name TEXT NOT NULL, format TEXT NOT NULL, file TEXT NOT NULL,"
                    + " base_model_id TEXT REFERENCES models(id), source TEXT NOT NULL, fingerprint TEXT NOT NULL,"
                    + " parameters INTEGER NOT NULL, size_bytes INTEGER NOT NULL, created_at TEXT NOT NULL)");
            s.execute("CREATE TABLE importances ("
                    + " id TEXT PRIMARY KEY, model_id TEXT NOT NULL REFERENCES models(id), data TEXT NOT NULL,"
                    + " train_limit INTEGER NOT NULL, estimator TEXT NOT NULL, batch_size INTEGER NOT NULL,"
                    + " file TEXT NOT NULL, job_id TEXT NOT NULL, created_at TEXT NOT NULL,"
                    + " UNIQUE (model_id, data, train_limit, estimator, batch_size))");
            // seq orders the queue; id is what clients see.
            s.execute("CREATE TABLE jobs ("
                    + " seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
                    + " model_id TEXT NOT NULL REFERENCES models(id), importance_id TEXT REFERENCES importances(id),"
                    + " request TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
                    + " phase TEXT, done INTEGER NOT NULL DEFAULT 0, total INTEGER NOT NULL DEFAULT 0, unit TEXT,"
                    + " error TEXT, notes TEXT NOT NULL DEFAULT '[]', result_file TEXT, report_file TEXT,"
                    + " created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT)");
            s.execute("CREATE INDEX jobs_by_state ON jobs (state, seq)");
            s.execute("PRAGMA user_version = " + SCHEMA_VERSION);
            db.commit();
        } catch (SQLException e) {
            db.rollback();
            throw e;
        } finally {
            db.setAutoCommit(true);
        }
    }

    // ---- models ---------------------------------------------------------------------------------

    synchronized void insertModel(StoredModel m) {
        run("registering model " + m.id(), () -> {
            try (PreparedStatement p = db.prepareStatement("INSERT INTO models (id, name, format, file, base_model_id, source,"
                    + " fingerprint, parameters, size_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                p.setString(1, m.id());
                p.setString(2, m.name());
                p.setString(3, m.format());
                p.setString(4, m.file());
                p.setString(5, m.baseModel());
                p.setString(6, m.source());
                p.setString(7, m.fingerprint());
                p.setLong(8, m.parameters());
                p.setLong(9, m.sizeBytes());
                p.setString(10, m.createdAt());
                p.executeUpdate();
            }
            return null;
        });
    }

    synchronized Optional<StoredModel> model(String id) {
        return run("reading model " + id, () -> {
            try (PreparedStatement p = db.prepareStatement("SELECT * FROM models WHERE id = ?")) {
                p.setString(1, id);
                try (ResultSet r = p.executeQuery()) {
                    return r.next() ? Optional.of(model(r)) : Optional.empty();
                }
            }
        });
    }

    synchronized List<StoredModel> models() {
        return run("listing models", () -> {
            List<StoredModel> out = new ArrayList<>();
            try (PreparedStatement p = db.prepareStatement("SELECT * FROM models ORDER BY created_at, id");
                 ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    out.add(model(r));
                }
            }
            return out;
        });
    }

    private static StoredModel model(ResultSet r) throws SQLException {
        return new StoredModel(r.getString("id"), r.getString("name"), r.getString("format"), r.getString("file"),
                r.getString("base_model_id"), r.getString("source"), r.getString("fingerprint"), r.getLong("parameters"),
                r.getLong("size_bytes"), r.getString("created_at"));
    }

    // ---- importances ----------------------------------------------------------------------------

    /**
     * Queues the computation of a D-importance unless one with the same model and settings exists already and
     * has not failed: then that one is returned and nothing is queued, so an importance is computed once.
     */
    synchronized ImportanceSubmission submitImportance(String modelId, ImportanceSpec spec, int queueLimit,
                                                    java.util.function.Function<String, String> fileOf) {
        return transaction("queueing an importance of " + modelId, () -> {
            StoredImportance existing = null;
            try (PreparedStatement p = db.prepareStatement("SELECT * FROM importances WHERE model_id = ? AND data = ?"
                    + " AND train_limit = ? AND estimator = ? AND batch_size = ?")) {
                p.setString(1, modelId);
                p.setString(2, spec.data());
                p.setInt(3, spec.trainLimit());
                p.setString(4, spec.estimator());
                p.setInt(5, spec.batchSize());
                try (ResultSet r = p.executeQuery()) {
                    if (r.next()) {
                        existing = importance(r);
                    }
                }
            }
            if (existing != null) {
                StoredJob job = jobOrThrow(existing.job());
                if (job.state() != JobState.FAILED && job.state() != JobState.CANCELLED) {
                    return new ImportanceSubmission(existing, job, false);
                }
            }
            requireRoomInQueue(queueLimit);
            String impId = existing != null ? existing.id() : Ids.importance();
            String jobId = Ids.job();
            if (existing == null) {
                try (PreparedStatement p = db.prepareStatement("INSERT INTO importances (id, model_id, data, train_limit,"
                        + " estimator, batch_size, file, job_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                    p.setString(1, impId);
                    p.setString(2, modelId);
                    p.setString(3, spec.data());
                    p.setInt(4, spec.trainLimit());
                    p.setString(5, spec.estimator());
                    p.setInt(6, spec.batchSize());
                    p.setString(7, fileOf.apply(impId));
                    p.setString(8, jobId);
                    p.setString(9, now());
                    p.executeUpdate();
                }
            }
            insertJob(jobId, JobKind.IMPORTANCE, modelId, impId, Json.compact(spec));
            if (existing != null) {
                try (PreparedStatement p = db.prepareStatement("UPDATE importances SET job_id = ? WHERE id = ?")) {
                    p.setString(1, jobId);
                    p.setString(2, impId);
                    p.executeUpdate();
                }
            }
            return new ImportanceSubmission(importanceOrThrow(impId), jobOrThrow(jobId), true);
        });
    }

    synchronized Optional<StoredImportance> importance(String id) {
        return run("reading importance " + id, () -> Optional.ofNullable(importanceOrNull(id)));
    }

    /** Importances, newest first; of one model when {@code modelId} is not null. */
    synchronized List<StoredImportance> importances(String modelId) {
        return run("listing importances", () -> {
            List<StoredImportance> out = new ArrayList<>();
            String sql = "SELECT * FROM importances" + (modelId == null ? "" : " WHERE model_id = ?") + " ORDER BY created_at DESC, id";
            try (PreparedStatement p = db.prepareStatement(sql)) {
                if (modelId != null) {
                    p.setString(1, modelId);
                }
                try (ResultSet r = p.executeQuery()) {
                    while (r.next()) {
                        out.add(importance(r));
                    }
                }
            }
            return out;
        });
    }

    private StoredImportance importanceOrNull(String id) throws SQLException {
        try (PreparedStatement p = db.prepareStatement("SELECT * FROM importances WHERE id = ?")) {
            p.setString(1, id);
            try (ResultSet r = p.executeQuery()) {
                return r.next() ? importance(r) : null;
            }
        }
    }

    private StoredImportance importanceOrThrow(String id) throws SQLException {
        StoredImportance i = importanceOrNull(id);
        if (i == null) {
            throw new IllegalStateException("importance " + id + " vanished");
        }
        return i;
    }

    private static StoredImportance importance(ResultSet r) throws SQLException {
        return new StoredImportance(r.getString("id"), r.getString("model_id"), r.getString("data"), r.getInt("train_limit"),
                r.getString("estimator"), r.getInt("batch_size"), r.getString("file"), r.getString("job_id"),
                r.getString("created_at"));
    }

    // ---- jobs: submission and queries -----------------------------------------------------------

    /** Queues a forget job; {@link QueueFullException} when the queue is at its limit. */
    synchronized StoredJob submitForget(String modelId, String importanceId, ForgetJobSpec spec, int queueLimit) {
        return transaction("queueing a forget job", () -> {
            requireRoomInQueue(queueLimit);
            String id = Ids.job();
            insertJob(id, JobKind.FORGET, modelId, importanceId, Json.compact(spec));
            return jobOrThrow(id);
        });
    }

    private void requireRoomInQueue(int queueLimit) throws SQLException {
        int queued = count(JobState.QUEUED);
        if (queued >= queueLimit) {
            throw new QueueFullException(queued, queueLimit);
        }
    }

    private void insertJob(String id, JobKind kind, String modelId, String importanceId, String request) throws SQLException {
        try (PreparedStatement p = db.prepareStatement("INSERT INTO jobs (id, kind, model_id, importance_id, request, state,"
                + " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            p.setString(1, id);
            p.setString(2, kind.id());
            p.setString(3, modelId);
            p.setString(4, importanceId);
            p.setString(5, request);
            p.setString(6, JobState.QUEUED.id());
            p.setString(7, now());
            p.executeUpdate();
        }
    }

    synchronized Optional<StoredJob> job(String id) {
        return run("reading job " + id, () -> Optional.ofNullable(jobOrNull(id)));
    }

    /** Jobs, newest first, at most {@code limit}; of one state when {@code state} is not null. */
    synchronized List<StoredJob> jobs(JobState state, int limit) {
        return run("listing jobs", () -> {
            List<StoredJob> out = new ArrayList<>();
            String sql = "SELECT " + JOB_COLUMNS + " FROM jobs" + (state == null ? "" : " WHERE state = ?") + " ORDER BY seq DESC LIMIT ?";
            try (PreparedStatement p = db.prepareStatement(sql)) {
                int i = 1;
                if (state != null) {
                    p.setString(i++, state.id());
                }
                p.setInt(i, limit);
                try (ResultSet r = p.executeQuery()) {
                    while (r.next()) {
                        out.add(job(r));
                    }
                }
            }
            return out;
        });
    }

    synchronized Counts counts() {
        return run("counting jobs", () -> new Counts(count(JobState.QUEUED), count(JobState.RUNNING)));
    }

    private int count(JobState state) throws SQLException {
        try (PreparedStatement p = db.prepareStatement("SELECT COUNT(*) FROM jobs WHERE state = ?")) {
            p.setString(1, state.id());
            try (ResultSet r = p.executeQuery()) {
                return r.getInt(1);
            }
        }
    }

    private StoredJob jobOrNull(String id) throws SQLException {
        try (PreparedStatement p = db.prepareStatement("SELECT " + JOB_COLUMNS + " FROM jobs WHERE id = ?")) {
            p.setString(1, id);
            try (ResultSet r = p.executeQuery()) {
                return r.next() ? job(r) : null;
            }
        }
    }

    private StoredJob jobOrThrow(String id) throws SQLException {
        StoredJob j = jobOrNull(id);
        if (j == null) {
            throw new IllegalStateException("job " + id + " vanished");
        }
        return j;
    }

    private static StoredJob job(ResultSet r) throws SQLException {
        return new StoredJob(r.getString("id"), JobKind.parse(r.getString("kind")), r.getString("model_id"),
                r.getString("importance_id"), r.getString("request"), JobState.parse(r.getString("state")),
                r.getInt("attempts"), r.getString("phase"), r.getLong("done"), r.getLong("total"), r.getString("unit"),
                r.getString("error"), Json.readStored(r.getString("notes"), NOTES), r.getString("result_file"),
                r.getString("report_file"), r.getString("created_at"), r.getString("started_at"), r.getString("finished_at"));
    }

    // ---- jobs: the worker's side ----------------------------------------------------------------

    /** Marks the oldest queued job running (one more attempt) and returns it; empty when none is queued. */
    synchronized Optional<StoredJob> claimNext() {
        return transaction("claiming a job", () -> {
            String id;
            try (PreparedStatement p = db.prepareStatement("SELECT id FROM jobs WHERE state = ? ORDER BY seq LIMIT 1")) {
                p.setString(1, JobState.QUEUED.id());
                try (ResultSet r = p.executeQuery()) {
                    if (!r.next()) {
                        return Optional.empty();
                    }
                    id = r.getString(1);
                }
            }
            try (PreparedStatement p = db.prepareStatement("UPDATE jobs SET state = ?, attempts = attempts + 1, started_at = ?,"
                    + " finished_at = NULL, phase = NULL, done = 0, total = 0, unit = NULL, error = NULL WHERE id = ?")) {
                p.setString(1, JobState.RUNNING.id());
                p.setString(2, now());
                p.setString(3, id);
                p.executeUpdate();
            }
            return Optional.of(jobOrThrow(id));
        });
    }

    /** Records the progress of a running job (ignored once it is no longer running). */
    synchronized void progress(String id, String phase, long done, long total, String unit) {
        run("recording progress of " + id, () -> {
            try (PreparedStatement p = db.prepareStatement("UPDATE jobs SET phase = ?, done = ?, total = ?, unit = ?"
                    + " WHERE id = ? AND state = ?")) {
                p.setString(1, phase);
                p.setLong(2, done);
                p.setLong(3, total);
                p.setString(4, unit);
                p.setString(5, id);
                p.setString(6, JobState.RUNNING.id());
                p.executeUpdate();
            }
            return null;
        });
    }

    /** A running job has succeeded; its outputs are complete on disk. False if it was not running. */
    synchronized boolean succeeded(String id, String resultFile, String reportFile, List<String> notes) {
        return transaction("finishing job " + id, () -> {
            List<String> all = new ArrayList<>(jobOrThrow(id).notes());
            all.addAll(notes);
            try (PreparedStatement p = db.prepareStatement("UPDATE jobs SET state = ?, result_file = ?, report_file = ?,"
                    + " notes = ?, finished_at = ?, done = total WHERE id = ? AND state = ?")) {
                p.setString(1, JobState.SUCCEEDED.id());
                p.setString(2, resultFile);
                p.setString(3, reportFile);
                p.setString(4, Json.compact(all));
                p.setString(5, now());
                p.setString(6, id);
                p.setString(7, JobState.RUNNING.id());
                return p.executeUpdate() == 1;
            }
        });
    }

    /** A running job ended in {@code state} (failed or cancelled) for {@code reason}. False if it was not running. */
    synchronized boolean ended(String id, JobState state, String reason) {
        return run("finishing job " + id, () -> {
            try (PreparedStatement p = db.prepareStatement("UPDATE jobs SET state = ?, error = ?, finished_at = ?"
                    + " WHERE id = ? AND state = ?")) {
                p.setString(1, state.id());
                p.setString(2, reason);
                p.setString(3, now());
                p.setString(4, id);
                p.setString(5, JobState.RUNNING.id());
                return p.executeUpdate() == 1;
            }
        });
    }

    /**
     * Cancels a job that has not started. False when it is not queued (running, finished or unknown): a running
     * job is cancelled by its worker instead.
     */
    synchronized boolean cancelQueued(String id, String reason) {
        return run("cancelling job " + id, () -> {
            try (PreparedStatement p = db.prepareStatement("UPDATE jobs SET state = ?, error = ?, finished_at = ?"
                    + " WHERE id = ? AND state = ?")) {
                p.setString(1, JobState.CANCELLED.id());
                p.setString(2, reason);
                p.setString(3, now());
                p.setString(4, id);
                p.setString(5, JobState.QUEUED.id());
                return p.executeUpdate() == 1;
            }
        });
    }

    /**
     * Puts a running job back in the queue because the server is shutting down; the attempt does not count
     * against the limit, since the job did nothing wrong.
     */
    synchronized void requeueForShutdown(String id) {
        transaction("re-queueing job " + id, () -> {
            requeue(id, "the server shut down while the job was running; it was queued again", true);
            return null;
        });
    }

    /**
     * What a restart does with the jobs that were running when the previous server stopped without warning
     * (kill -9, crash, power loss): each is queued again, since its outputs are written atomically and a re-run
     * is safe, unless it has been started {@code maxAttempts} times already; then it fails with that reason, so
     * that a job that crashes the server cannot do so forever.
     */
    synchronized List<Recovery> recoverInterrupted(int maxAttempts) {
        return transaction("recovering interrupted jobs", () -> {
            List<StoredJob> running = new ArrayList<>();
            try (PreparedStatement p = db.prepareStatement("SELECT " + JOB_COLUMNS + " FROM jobs WHERE state = ? ORDER BY seq")) {
                p.setString(1, JobState.RUNNING.id());
                try (ResultSet r = p.executeQuery()) {
                    while (r.next()) {
                        running.add(job(r));
                    }
                }
            }
            List<Recovery> out = new ArrayList<>();
            for (StoredJob j : running) {
                String when = "the server stopped unexpectedly during attempt " + j.attempts()
                        + (j.phase() == null ? "" : " (in '" + j.phase() + "')");
                if (j.attempts() >= maxAttempts) {
                    String reason = when + "; not re-run: that was attempt " + j.attempts() + " of " + maxAttempts;
                    try (PreparedStatement p = db.prepareStatement("UPDATE jobs SET state = ?, error = ?, finished_at = ? WHERE id = ?")) {
                        p.setString(1, JobState.FAILED.id());
                        p.setString(2, reason);
                        p.setString(3, now());
                        p.setString(4, j.id());
                        p.executeUpdate();
                    }
                    out.add(new Recovery(j.id(), false, reason));
                } else {
                    String note = when + "; queued again";
                    requeue(j.id(), note, false);
                    out.add(new Recovery(j.id(), true, note));
                }
            }
            return out;
        });
    }

    private void requeue(String id, String note, boolean refundAttempt) throws SQLException {
        List<String> notes = new ArrayList<>(jobOrThrow(id).notes());
        notes.add(note);
        // The old run's progress goes: a queued job showing "evaluating, 5 of 40" would look stuck.
        try (PreparedStatement p = db.prepareStatement("UPDATE jobs SET state = ?, notes = ?, attempts = attempts - ?,"
                + " phase = NULL, done = 0, total = 0, unit = NULL WHERE id = ? AND state = ?")) {
            p.setString(1, JobState.QUEUED.id());
            p.setString(2, Json.compact(notes));
            p.setInt(3, refundAttempt ? 1 : 0);
            p.setString(4, id);
            p.setString(5, JobState.RUNNING.id());
            p.executeUpdate();
        }
    }

    // ---- plumbing -------------------------------------------------------------------------------

    @FunctionalInterface
    private interface Work<T> {
        T run() throws SQLException;
    }

    private <T> T run(String what, Work<T> work) {
        try {
            return work.run();
        } catch (SQLException e) {
            throw new StoreException(what, e);
        }
    }

    /** Runs {@code work} as one transaction: all of it is committed, or none of it. */
    private <T> T transaction(String what, Work<T> work) {
        try {
            db.setAutoCommit(false);
            try {
                T result = work.run();
                db.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException(what, e);
        }
    }

    static String now() {
        return Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
    }

    @Override
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException e) {
            throw new StoreException("closing the database", e);
        }
    }
}
