package ai.lethe.server;

import ai.lethe.report.Progress;

/**
 * The progress of one running job: the current phase (the core's task, e.g. "importance over D (2000
 * samples)") and how far it is, kept in memory for status requests and written to the database at most
 * once a second (and whenever a phase starts), so that a restarted server still shows where a job was.
 *
 * <p>It is also how a running job is stopped: after {@link #stop}, the next callback from the core throws
 * {@link JobInterruptedException}.
 */
final class JobProgress implements Progress {

    /** A consistent view for status responses. */
    record Snapshot(String phase, long done, long total, String unit) {
    }

    private static final long PERSIST_EVERY_NANOS = 1_000_000_000L;

    private final String jobId;
    private final JobStore store;
    private String phase;
    private long done;
    private long total;
    private String unit;
    private long lastPersistNanos;
    private volatile JobInterruptedException.Why stop;

    JobProgress(String jobId, JobStore store) {
        this.jobId = jobId;
        this.store = store;
    }

    /** Asks the job to stop at its next progress callback; the first reason given wins. */
    void stop(JobInterruptedException.Why why) {
        if (stop == null) {
            stop = why;
        }
    }

    /** Throws if the job was asked to stop; workers also call it between steps the core does not report. */
    void checkStop() {
        JobInterruptedException.Why why = stop;
        if (why != null) {
            throw new JobInterruptedException(why);
        }
    }

    @Override
    public void start(String task, long total, String unit) {
        checkStop();
        synchronized (this) {
            this.phase = task;
            this.total = Math.max(0, total);
            this.unit = unit;
            this.done = 0;
        }
        persist(true);
    }

    @Override
    public void advance(long n) {
        checkStop();
        synchronized (this) {
            done += n;
        }
        persist(false);
    }

    @Override
    public void finish() {
        synchronized (this) {
            if (total > 0) {
                done = total;
            }
        }
        persist(false);
    }

    synchronized Snapshot snapshot() {
        return new Snapshot(phase, done, total, unit);
    }

    private void persist(boolean now) {
        Snapshot s;
        synchronized (this) {
            long t = System.nanoTime();
            if (!now && t - lastPersistNanos < PERSIST_EVERY_NANOS) {
                return;
            }
            lastPersistNanos = t;
            s = new Snapshot(phase, done, total, unit);
        }
        store.progress(jobId, s.phase(), s.done(), s.total(), s.unit());
    }
}
