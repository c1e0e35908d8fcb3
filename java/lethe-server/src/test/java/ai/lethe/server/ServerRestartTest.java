package ai.lethe.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import ai.lethe.Lethe;

/**
 * Durability across {@code kill -9}: the server runs as a separate JVM, is killed with SIGKILL while a job is
 * running and another is queued, and a new server is started on the same data directory.
 */
class ServerRestartTest {

    private static final Duration JOB_TIMEOUT = Duration.ofSeconds(180);

    /** Long enough to be caught running: evaluation before and after over 10,000 training and test images. */
    private static final String LONG_JOB = "{\"model\": \"%s\", \"data\": \"fashion-mnist\", \"train_limit\": 10000,"
            + " \"forget\": {\"classes\": [1]}}";
    private static final String SHORT_JOB = "{\"model\": \"%s\", \"data\": \"fashion-mnist\", \"train_limit\": 600,"
            + " \"forget\": {\"classes\": [2]}, \"evaluate\": false}";

    @TempDir
    Path dir;

    private final List<Process> children = new ArrayList<>();

    @AfterEach
    void stopChildren() throws InterruptedException {
        for (Process p : children) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aJobRunningWhenTheServerIsKilledRunsAgainAfterTheRestartAndAQueuedJobIsKept() throws Exception {
        Path data = dir.resolve("data");
        Child first = start(data, 3, "first");
        String model = first.api.uploadDemoModel();
        String running = first.api.submit(LONG_JOB.formatted(model));
        String queued = first.api.submit(SHORT_JOB.formatted(model));
        awaitRunningWithProgress(first.api, running);
        first.kill();

        Child second = start(data, 3, "second");
        JsonNode rerun = second.api.awaitSuccess(running, JOB_TIMEOUT);
        assertEquals(2, rerun.path("attempts").asInt(), rerun.toString());
        assertTrue(rerun.path("notes").get(0).asText().startsWith("the server stopped unexpectedly during attempt 1"), rerun.toString());
        assertTrue(rerun.path("notes").get(0).asText().endsWith("; queued again"), rerun.toString());
        JsonNode kept = second.api.awaitSuccess(queued, JOB_TIMEOUT);
        assertEquals(1, kept.path("attempts").asInt(), "the queued job was never started before the kill");

        JsonNode report = second.api.get("/jobs/" + running + "/report").expect(200);
        Path downloaded = dir.resolve("downloaded.pt");
        Files.write(downloaded, second.api.get("/jobs/" + running + "/model").body());
        try (Lethe lethe = Lethe.load(downloaded, "scalar")) {
            assertEquals(report.path("output_fingerprint").asText(), lethe.model().fingerprint());
        }
        assertNothingHalfWritten(data);
        second.stop();
    }

    @Test
    void aJobInterruptedOnItsLastAttemptFailsWithTheReason() throws Exception {
        Path data = dir.resolve("data");
        Child first = start(data, 1, "first");
        String model = first.api.uploadDemoModel();
        String running = first.api.submit(LONG_JOB.formatted(model));
        awaitRunningWithProgress(first.api, running);
        first.kill();

        Child second = start(data, 1, "second");
        JsonNode failed = second.api.get("/jobs/" + running).expect(200);
        assertEquals("failed", failed.path("state").asText(), failed.toString());
        String reason = failed.path("error").asText();
        assertTrue(reason.startsWith("the server stopped unexpectedly during attempt 1 (in '"), reason);
        assertTrue(reason.endsWith("; not re-run: that was attempt 1 of 1"), reason);
        second.api.get("/jobs/" + running + "/model").expectError(409, "failed (the server stopped unexpectedly");

        // The restarted server works normally.
        second.api.awaitSuccess(second.api.submit(SHORT_JOB.formatted(model)), JOB_TIMEOUT);
        assertNothingHalfWritten(data);
        second.stop();
    }

    /** Waits until the job is running and the core has reported a phase, so the kill lands in the middle of the work. */
    private static void awaitRunningWithProgress(ApiClient api, String jobId) {
        long deadline = System.nanoTime() + JOB_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode j = api.get("/jobs/" + jobId).expect(200);
            if (j.path("state").asText().equals("running") && j.path("progress").path("phase").isTextual()) {
                return;
            }
            assertTrue(j.path("state").asText().equals("queued") || j.path("state").asText().equals("running"),
                    "the job must not end before the kill: " + j);
            ApiClient.sleep(20);
        }
        throw new AssertionError(jobId + " never ran");
    }

    private static void assertNothingHalfWritten(Path data) throws IOException {
        try (Stream<Path> files = Files.walk(data)) {
            assertEquals(List.of(), files.filter(p -> p.getFileName().toString().endsWith(".partial")).toList());
        }
        try (Stream<Path> files = Files.list(data.resolve("tmp"))) {
            assertEquals(List.of(), files.toList());
        }
    }

    /** A server in its own JVM (the test's class path and the JVM flags every Lethe process needs). */
    private final class Child {
        final Process process;
        final ApiClient api;

        Child(Process process, ApiClient api) {
            this.process = process;
            this.api = api;
        }

        /** SIGKILL: no shutdown hook runs, nothing is flushed or closed. */
        void kill() throws InterruptedException {
            process.destroyForcibly();
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "killed");
        }

        /** SIGTERM: the shutdown hook closes the server. */
        void stop() throws InterruptedException {
            process.destroy();
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "stopped");
        }
    }

    private Child start(Path data, int maxAttempts, String name) throws IOException, InterruptedException {
        ChildServer.Started s = ChildServer.launch(dir, name, data, 1, maxAttempts);
        children.add(s.process());
        return new Child(s.process(), new ApiClient(s.url(), null));
    }
}
