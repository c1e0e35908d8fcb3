package ai.lethe.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The database as queue and record: order, the queue limit, state transitions, and what a restart does. */
class JobStoreTest {

    @TempDir
    Path dir;

    private static final ForgetJobSpec SPEC = new ForgetJobSpec("m", "fashion-mnist", 0,
            new ForgetSetSpec(List.of(1), null, null, null), "ssd", java.util.Map.of("alpha", 10.0, "lambda", 1.0), 64, "batch", null,
            true, "torchscript", 0L);

    private JobStore open() {
        return JobStore.open(dir.resolve("lethe.db"));
    }

    private static void addModel(JobStore s, String id) {
        s.insertModel(new StoredModel(id, "m", "torchscript", "models/" + id + "/model.pt", null, "upload", "f".repeat(64),
                10, 100, JobStore.now()));
    }

    @Test
    void jobsAreClaimedOldestFirstAndTheQueueLimitHolds() {
        try (JobStore s = open()) {
            addModel(s, "m");
            String a = s.submitForget("m", null, SPEC, 2).id();
            String b = s.submitForget("m", null, SPEC, 2).id();
            assertThrows(JobStore.QueueFullException.class, () -> s.submitForget("m", null, SPEC, 2));
            assertEquals(new JobStore.Counts(2, 0), s.counts());

            StoredJob first = s.claimNext().orElseThrow();
            assertEquals(a, first.id());
            assertEquals(JobState.RUNNING, first.state());
            assertEquals(1, first.attempts());
            String c = s.submitForget("m", null, SPEC, 2).id(); // running jobs do not count against the queue
            assertEquals(b, s.claimNext().orElseThrow().id());
            assertEquals(c, s.claimNext().orElseThrow().id());
            assertTrue(s.claimNext().isEmpty());
        }
    }

    @Test
    void stateChangesOnlyHappenFromTheStatesTheyBelongTo() {
        try (JobStore s = open()) {
            addModel(s, "m");
            String id = s.submitForget("m", null, SPEC, 10).id();
            assertFalse(s.succeeded(id, "jobs/x/model.pt", "jobs/x/report.json", List.of()), "a queued job cannot succeed");
            assertFalse(s.ended(id, JobState.FAILED, "x"), "nor fail");
            assertTrue(s.cancelQueued(id, "cancelled by a client before it started"));
            assertTrue(s.claimNext().isEmpty(), "a cancelled job is not run");
            assertFalse(s.cancelQueued(id, "again"), "cancelled once");

            String run = s.submitForget("m", null, SPEC, 10).id();
            s.claimNext().orElseThrow();
            assertFalse(s.cancelQueued(run, "too late"), "a running job is not cancelled by the store");
            s.progress(run, "importance over D", 3, 10, "batches");
            StoredJob j = s.job(run).orElseThrow();
            assertEquals("importance over D", j.phase());
            assertEquals(3, j.done());
            assertTrue(s.succeeded(run, "jobs/x/model.pt", "jobs/x/report.json", List.of()));
            assertFalse(s.ended(run, JobState.FAILED, "late failure"), "a succeeded job stays succeeded");
            assertEquals(JobState.SUCCEEDED, s.job(run).orElseThrow().state());
        }
    }

    @Test
    void aRestartRequeuesInterruptedJobsUntilTheirAttemptsAreUsedUp() {
        String id;
        try (JobStore s = open()) {
            addModel(s, "m");
            id = s.submitForget("m", null, SPEC, 10).id();
            s.claimNext();
            s.progress(id, "evaluating on train", 5, 40, "batches");
        } // as after kill -9: the job is still "running" in the database
        try (JobStore s = open()) {
            List<JobStore.Recovery> r = s.recoverInterrupted(2);
            assertEquals(1, r.size());
            assertTrue(r.get(0).requeued());
            StoredJob j = s.job(id).orElseThrow();
            assertEquals(JobState.QUEUED, j.state());
            assertEquals(List.of("the server stopped unexpectedly during attempt 1 (in 'evaluating on train'); queued again"), j.notes());
            assertNull(j.phase(), "the interrupted run's progress is not shown on the queued job");
            assertEquals(0, j.done());
            assertEquals(0, j.total());
            assertEquals(2, s.claimNext().orElseThrow().attempts());
        }
        try (JobStore s = open()) {
            JobStore.Recovery r = s.recoverInterrupted(2).get(0);
            assertFalse(r.requeued());
            StoredJob j = s.job(id).orElseThrow();
            assertEquals(JobState.FAILED, j.state());
            assertEquals("the server stopped unexpectedly during attempt 2; not re-run: that was attempt 2 of 2", j.error());
            assertTrue(s.recoverInterrupted(2).isEmpty(), "nothing is left running");
        }
    }

    @Test
    void aShutdownRequeuesWithoutUsingAnAttempt() {
        try (JobStore s = open()) {
            addModel(s, "m");
            String id = s.submitForget("m", null, SPEC, 10).id();
            s.claimNext();
            s.progress(id, "importance over D", 3, 16, "batches");
            s.requeueForShutdown(id);
            StoredJob j = s.job(id).orElseThrow();
            assertEquals(JobState.QUEUED, j.state());
            assertNull(j.phase());
            assertEquals(0, j.done());
            assertEquals(0, j.attempts());
            assertEquals(1, j.notes().size());
        }
    }

    @Test
    void anImportanceIsQueuedOnceUnlessItFailed() {
        ImportanceSpec spec = new ImportanceSpec("fashion-mnist", 1000, "batch", 64);
        try (JobStore s = open()) {
            addModel(s, "m");
            JobStore.ImportanceSubmission first = s.submitImportance("m", spec, 10, DataDirectory::importanceFile);
            assertTrue(first.queued());
            assertEquals("importances/" + first.importance().id() + "/importance_full.safetensors", first.importance().file());
            JobStore.ImportanceSubmission again = s.submitImportance("m", spec, 10, DataDirectory::importanceFile);
            assertFalse(again.queued());
            assertEquals(first.job().id(), again.job().id());
            assertTrue(s.submitImportance("m", new ImportanceSpec("fashion-mnist", 1000, "batch", 32), 10,
                    DataDirectory::importanceFile).queued(), "other settings, another importance");

            s.claimNext();
            s.ended(first.job().id(), JobState.FAILED, "broken");
            JobStore.ImportanceSubmission retry = s.submitImportance("m", spec, 10, DataDirectory::importanceFile);
            assertTrue(retry.queued());
            assertEquals(first.importance().id(), retry.importance().id());
            assertEquals(retry.job().id(), s.importance(first.importance().id()).orElseThrow().job());
        }
    }

    @Test
    void aDatabaseFromANewerVersionIsRefused() throws Exception {
        try (JobStore s = open()) {
            addModel(s, "m");
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("lethe.db")); Statement st = c.createStatement()) {
            st.execute("PRAGMA user_version = " + (JobStore.SCHEMA_VERSION + 1));
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, this::open);
        assertTrue(e.getMessage().contains("written by a newer Lethe"), e.getMessage());
    }
}
