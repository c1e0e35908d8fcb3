package ai.lethe.server;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.lethe.Lethe;
import ai.lethe.importance.Estimator;
import ai.lethe.importance.Importance;
import ai.lethe.io.AtomicFiles;
import ai.lethe.io.LetheFormatException;
import ai.lethe.model.ModelException;

/**
 * A fixed pool of worker threads that take queued jobs from the database, oldest first, and run them through
 * the core facade. Each job loads its own copy of the model on its worker thread (libtorch's grad mode is per
 * thread, and jobs must not share a model). Outputs are written atomically before the job is marked succeeded,
 * so a job is either re-runnable or complete.
 */
final class JobRunner implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(JobRunner.class);

    /** How long {@link #close} waits for running jobs to reach a progress callback and stop. */
    private static final long STOP_WAIT_SECONDS = 30;

    private final JobStore store;
    private final DataDirectory dir;
    private final ModelRegistry models;
    private final PathGuard guard;
    private final String device;
    private final int workers;
    private final List<Thread> threads = new ArrayList<>();
    private final Map<String, JobProgress> running = new ConcurrentHashMap<>();
    private final Set<String> cancelRequests = ConcurrentHashMap.newKeySet();
    /** Jobs a worker of this process has claimed and not yet recorded the end of. */
    private final Set<String> claimed = ConcurrentHashMap.newKeySet();
    private final Object claimLock = new Object();
    private final Object signal = new Object();
    private volatile boolean stopping;

    JobRunner(JobStore store, DataDirectory dir, ModelRegistry models, PathGuard guard, String device, int workers) {
        this.store = store;
        this.dir = dir;
        this.models = models;
        this.guard = guard;
        this.device = device;
        this.workers = workers;
    }

    void start() {
        for (int i = 0; i < workers; i++) {
            Thread t = new Thread(this::work, "lethe-worker-" + (i + 1));
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    int workers() {
        return workers;
    }

    /** Tells idle workers that a job was queued. */
    void wake() {
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    /** The live progress of a job this runner is running now. */
    Optional<JobProgress.Snapshot> progress(String jobId) {
        JobProgress p = running.get(jobId);
        return p == null ? Optional.empty() : Optional.of(p.snapshot());
    }

    /**
     * Whether the store says the job is running while no worker of this process has it: its worker ended
     * without recording an outcome (the store failed at that moment), so nothing will ever end it.
     */
    boolean orphaned(String jobId) {
        synchronized (claimLock) {
            return !claimed.contains(jobId) && store.job(jobId).map(j -> j.state() == JobState.RUNNING).orElse(false);
        }
    }

    /** Asks a running job to stop at its next batch; it then ends as cancelled. */
    void cancel(String jobId) {
        cancelRequests.add(jobId);
        JobProgress p = running.get(jobId);
        if (p != null) {
            p.stop(JobInterruptedException.Why.CANCELLED);
        }
    }

    private void work() {
        while (!stopping) {
            Optional<StoredJob> next;
            try {
                synchronized (claimLock) { // a claimed job is in `claimed` before anyone can look (see orphaned)
                    next = store.claimNext();
                    next.ifPresent(j -> claimed.add(j.id()));
                }
            } catch (RuntimeException e) {
                LOG.error("cannot take a job from the queue", e);
                pause(5_000);
                continue;
            }
            if (next.isEmpty()) {
                pause(1_000);
                continue;
            }
            try {
                execute(next.get());
            } catch (Throwable e) { // recording the outcome failed; the job stays running and a restart recovers it
                LOG.error("{}: cannot record how the job ended", next.get().id(), e);
            } finally {
                claimed.remove(next.get().id());
            }
        }
    }

    private void pause(long millis) {
        synchronized (signal) {
            if (!stopping) {
                try {
                    signal.wait(millis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    stopping = true;
                }
            }
        }
    }

    private void execute(StoredJob job) {
        JobProgress progress = new JobProgress(job.id(), store);
        running.put(job.id(), progress);
        if (stopping) {
            progress.stop(JobInterruptedException.Why.SHUTDOWN);
        }
        if (cancelRequests.contains(job.id())) {
            progress.stop(JobInterruptedException.Why.CANCELLED);
        }
        long start = System.nanoTime();
        LOG.info("{} started: {} job on model {} (attempt {})", job.id(), job.kind().id(), job.model(), job.attempts());
        try {
            progress.checkStop();
            if (job.kind() == JobKind.FORGET) {
                runForget(job, progress);
            } else {
                runImportance(job, progress);
            }
            LOG.info("{} succeeded in {} s", job.id(), String.format("%.2f", (System.nanoTime() - start) / 1e9));
        } catch (JobInterruptedException e) {
            if (e.why() == JobInterruptedException.Why.SHUTDOWN) {
                store.requeueForShutdown(job.id());
                LOG.info("{} stopped for shutdown; queued again", job.id());
            } else {
                JobProgress.Snapshot s = progress.snapshot();
                store.ended(job.id(), JobState.CANCELLED, "cancelled by a client "
                        + (s.phase() == null ? "while it was starting" : "during '" + s.phase() + "'"));
                LOG.info("{} cancelled", job.id());
            }
        } catch (Throwable t) { // a job's failure, whatever it is, must not take the worker down with it
            String reason = ApiErrors.message(t);
            if (expected(t)) {
                LOG.info("{} failed: {}", job.id(), reason);
            } else {
                LOG.error("{} failed unexpectedly", job.id(), t);
            }
            try {
                store.ended(job.id(), JobState.FAILED, reason);
            } catch (RuntimeException e) {
                LOG.error("{}: cannot record the failure; the next start will re-run it", job.id(), e);
            }
        } finally {
            running.remove(job.id());
            cancelRequests.remove(job.id());
        }
    }

    /** Failures that come from the request or its inputs, not from a bug: logged without a stack trace. */
    private static boolean expected(Throwable t) {
        return t instanceof IOException || t instanceof IllegalArgumentException || t instanceof ModelException
                || t instanceof ApiException || t instanceof ai.lethe.importance.NonFiniteGradientException;
    }

    private void runForget(StoredJob job, JobProgress progress) throws IOException {
        ForgetJobSpec spec = ForgetJobSpec.parseStored(Json.readStored(job.request(), com.fasterxml.jackson.databind.JsonNode.class));
        // Confined again: a symbolic link under the allowed root may have changed since the job was accepted.
        ForgetJobSpec confined = spec.confined(guard);
        Path importance = null;
        if (job.importance() != null) {
            StoredImportance imp = store.importance(job.importance())
                    .orElseThrow(() -> new LetheFormatException("importance " + job.importance() + " is missing"));
            importance = dir.resolve(imp.file());
        }
        StoredModel model = registered(job.model());
        try (Lethe lethe = models.open(model, device)) {
            lethe.progress(progress);
            Lethe.ForgetResult result = lethe.forget(confined.toForgetRequest(importance));
            progress.checkStop();
            progress.start("writing the forgotten model", 0, "files");
            String modelFile = DataDirectory.jobFile(job.id(), spec.outputFileName());
            String reportFile = DataDirectory.jobFile(job.id(), "report.json");
            lethe.save(dir.resolve(modelFile));
            AtomicFiles.writeString(dir.resolve(reportFile), Json.write(result.report()) + "\n");
            store.succeeded(job.id(), modelFile, reportFile, List.of());
        }
    }

    private void runImportance(StoredJob job, JobProgress progress) throws IOException {
        ImportanceSpec spec = Json.readStored(job.request(), ImportanceSpec.class);
        StoredImportance imp = store.importance(job.importance())
                .orElseThrow(() -> new IllegalStateException("importance " + job.importance() + " of " + job.id() + " is missing"));
        StoredModel model = registered(job.model());
        try (Lethe lethe = models.open(model, device)) {
            lethe.progress(progress);
            Importance full = lethe.importance(guard.dataSpec(spec.data()), spec.trainLimit(), "full", null,
                    Estimator.parse(spec.estimator()), spec.batchSize());
            progress.checkStop();
            full.save(dir.resolve(imp.file()));
            store.succeeded(job.id(), null, null, List.of());
        }
    }

    private StoredModel registered(String id) {
        return store.model(id).orElseThrow(() -> new IllegalStateException("model " + id + " is missing"));
    }

    /**
     * Stops taking jobs, asks running ones to stop at their next batch (they go back to the queue for the next
     * start), and waits for the workers a while. A worker still inside a long native call is left behind: its
     * job stays "running" in the database, which the next start treats as interrupted.
     */
    @Override
    public void close() {
        stopping = true;
        for (JobProgress p : running.values()) {
            p.stop(JobInterruptedException.Why.SHUTDOWN);
        }
        wake();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_WAIT_SECONDS);
        for (Thread t : threads) {
            try {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            if (t.isAlive()) {
                LOG.warn("{} did not stop within {} s", t.getName(), STOP_WAIT_SECONDS);
            }
        }
    }
}
