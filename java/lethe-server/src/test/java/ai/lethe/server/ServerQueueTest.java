package ai.lethe.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

/** The worker pool and the queue: concurrent submissions, the bound on running jobs, 429 beyond the limit, cancelling. */
class ServerQueueTest {

    private static final Duration JOB_TIMEOUT = Duration.ofSeconds(180);

    @TempDir
    Path data;

    @Test
    void concurrentSubmissionsAreAllAcceptedAndRunNeverMoreThanTheWorkersAtOnce() throws Exception {
        int clients = 8;
        try (ServerHarness h = ServerHarness.start(data, c -> c.workers(2).queueLimit(64))) {
            ApiClient api = h.client;
            String modelId = api.uploadDemoModel();
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            List<Future<String>> submitted = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int seed = i;
                submitted.add(pool.submit(() -> {
                    go.await();
                    return api.submit("{\"model\": \"" + modelId + "\", \"data\": \"fashion-mnist\", \"train_limit\": 600,"
                            + " \"forget\": {\"random\": 0.05, \"seed\": " + seed + "}, \"evaluate\": false}");
                }));
            }
            AtomicInteger mostRunning = new AtomicInteger();
            AtomicBoolean watching = new AtomicBoolean(true);
            Future<?> watcher = pool.submit(() -> {
                while (watching.get()) {
                    mostRunning.accumulateAndGet(api.get("/health").expect(200).path("running").asInt(), Math::max);
                    ApiClient.sleep(20);
                }
                return null;
            });
            go.countDown();
            List<String> ids = new ArrayList<>();
            for (Future<String> f : submitted) {
                ids.add(f.get());
            }
            assertEquals(clients, new HashSet<>(ids).size(), "every submission got its own job");

            Set<String> outputs = new HashSet<>();
            for (int i = 0; i < clients; i++) {
                api.awaitSuccess(ids.get(i), JOB_TIMEOUT);
                JsonNode report = api.get("/jobs/" + ids.get(i) + "/report").expect(200);
                assertTrue(report.path("forget_set").asText().matches("random 0\\.05 \\(30 samples, seed \\d\\)"), report.toString());
                outputs.add(report.path("output_fingerprint").asText());
            }
            watching.set(false);
            watcher.get();
            pool.shutdown();
            assertEquals(clients, outputs.size(), "each job forgot its own random set");
            assertTrue(mostRunning.get() >= 1 && mostRunning.get() <= 2, "at most 2 workers ran at once: " + mostRunning.get());
            JsonNode health = api.get("/health").expect(200);
            assertEquals(0, health.path("queued").asInt());
            assertEquals(0, health.path("running").asInt());
        }
    }

    @Test
    void submissionsBeyondTheQueueLimitGet429AndCancellingMakesRoom() {
        try (ServerHarness h = ServerHarness.start(data, c -> c.workers(1).queueLimit(2))) {
            ApiClient api = h.client;
            String modelId = api.uploadDemoModel();
            String small = "{\"model\": \"" + modelId + "\", \"data\": \"fashion-mnist\", \"train_limit\": 600,"
                    + " \"forget\": {\"classes\": [1]}, \"evaluate\": false}";
            // Occupies the only worker for many seconds: the whole training set, evaluated before and after.
            String busy = api.submit("{\"model\": \"" + modelId + "\", \"data\": \"fashion-mnist\", \"forget\": {\"classes\": [1]}}");
            awaitState(api, busy, "running");

            JsonNode imp = api.postJson("/models/" + modelId + "/importances", "{\"data\": \"fashion-mnist\", \"train_limit\": 600}")
                    .expect(202);
            api.postJson("/jobs", "{\"model\": \"" + modelId + "\", \"importance\": \"" + imp.path("id").asText() + "\","
                    + " \"forget\": {\"classes\": [1]}}").expectError(409, "is not ready: its job " + imp.path("job").asText() + " is queued");
            String queued = api.submit(small);

            ApiClient.Response full = api.postJson("/jobs", small);
            full.expectError(429, "the job queue is full (2 jobs waiting, limit 2)");
            assertEquals("10", full.header("Retry-After"));
            api.postJson("/models/" + modelId + "/importances", "{\"data\": \"fashion-mnist\", \"train_limit\": 700}")
                    .expectError(429, "the job queue is full");
            JsonNode health = api.get("/health").expect(200);
            assertEquals(2, health.path("queued").asInt());
            assertEquals(1, health.path("running").asInt());

            JsonNode cancelled = api.postJson("/jobs/" + queued + "/cancel", "").expect(200);
            assertEquals("cancelled", cancelled.path("state").asText());
            assertEquals("cancelled by a client before it started", cancelled.path("error").asText());
            String next = api.submit(small);

            api.postJson("/jobs/" + next + "/cancel", "").expect(200);
            api.postJson("/jobs/" + imp.path("job").asText() + "/cancel", "").expect(200);
            assertEquals("cancelled", api.get("/importances/" + imp.path("id").asText()).expect(200).path("state").asText());
            assertEquals("running", api.postJson("/jobs/" + busy + "/cancel", "").expect(202).path("state").asText());
            JsonNode stopped = api.awaitEnd(busy, JOB_TIMEOUT);
            assertEquals("cancelled", stopped.path("state").asText());
            assertTrue(stopped.path("error").asText().matches("cancelled by a client (during '.+'|while it was starting)"),
                    stopped.toString());
            api.postJson("/jobs/" + busy + "/cancel", "").expectError(409, "has already ended (cancelled)");
            api.get("/jobs/" + busy + "/model").expectError(409, "it has no model");

            // A cancelled importance is computed again, under the same id, when asked for again.
            JsonNode again = api.postJson("/models/" + modelId + "/importances", "{\"data\": \"fashion-mnist\", \"train_limit\": 600}")
                    .expect(202);
            assertEquals(imp.path("id").asText(), again.path("id").asText());
            assertNotEquals(imp.path("job").asText(), again.path("job").asText());
            api.awaitSuccess(again.path("job").asText(), JOB_TIMEOUT);
            assertEquals("succeeded", api.get("/importances/" + imp.path("id").asText()).expect(200).path("state").asText());
        }
    }

    private static void awaitState(ApiClient api, String jobId, String state) {
        long deadline = System.nanoTime() + JOB_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (api.get("/jobs/" + jobId).expect(200).path("state").asText().equals(state)) {
                return;
            }
            ApiClient.sleep(20);
        }
        throw new AssertionError(jobId + " never reached " + state + ": " + api.get("/jobs/" + jobId).text());
    }
}
