package ai.lethe.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import ai.lethe.Lethe;

/**
 * The service under load, and under {@code kill -9} during that load. The server runs in its own JVM (so that
 * it can be killed, and its peak memory is its own), with two workers; {@link LoadRun} drives it with concurrent
 * clients over loopback HTTP and checks that every accepted job ended exactly once with intact outputs.
 *
 * <p>CI runs short budgets; longer runs take the same test with properties, for example
 * {@code mvn -B -pl java/lethe-server -am verify -Dtest=ServiceLoadTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dlethe.load.seconds=300 -Dlethe.load.clients=16 -Dlethe.load.kills=10}. Each run prints its figures.
 */
class ServiceLoadTest {

    private static final int SECONDS = Integer.getInteger("lethe.load.seconds", 15);
    private static final int CLIENTS = Integer.getInteger("lethe.load.clients", 6);
    private static final int KILLS = Integer.getInteger("lethe.load.kills", 2);
    private static final int TRAIN_LIMIT = Integer.getInteger("lethe.load.train-limit", 300);
    private static final long SEED = Long.getLong("lethe.load.seed", 15);
    private static final int WORKERS = 2;
    private static final Duration DRAIN = Duration.ofSeconds(Integer.getInteger("lethe.load.drain-seconds", 300));
    /** Downloaded models loaded back to compare their fingerprint with the report's (per method; bounds the time). */
    private static final int FINGERPRINT_CHECKS_PER_METHOD = 2;

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
    void concurrentClientsOnOneServerLoseNothingAndRunNothingTwice() throws Exception {
        Path data = dir.resolve("data");
        Child server = start(data, "load");
        LoadRun load = new LoadRun(() -> server.url, data, CLIENTS, Duration.ofSeconds(SECONDS), TRAIN_LIMIT, SEED);
        LoadRun.Result result = load.run(DRAIN);
        int checked = load.verify();
        long peakKb = server.peakRssKb();
        System.out.println("[load] " + result.summary().replace("\n", "\n[load] "));
        System.out.printf(Locale.ROOT, "[load] server peak RSS %.0f MiB (VmHWM), %d workers; %d jobs checked, %d violations%n",
                peakKb / 1024.0, WORKERS, checked, load.violations().size());
        assertEquals(List.of(), load.violations());
        assertTrue(result.accepted() > 0, "jobs were accepted");
        assertEquals(result.accepted(), checked);
        for (String m : load.methods()) {
            assertTrue(result.byMethod().containsKey(m), "a " + m + " job was submitted: " + result.byMethod());
        }
        assertTrue(result.endStates().getOrDefault("succeeded", 0) > 0, result.endStates().toString());
        checkFingerprints(load, server.url);
        server.stop();
    }

    @Test
    void killNineAtRandomMomentsDuringLoadLosesNothing() throws Exception {
        Path data = dir.resolve("data");
        AtomicReference<Child> current = new AtomicReference<>(start(data, "fault-0"));
        LoadRun load = new LoadRun(() -> current.get().url, data, CLIENTS, Duration.ofSeconds(SECONDS), TRAIN_LIMIT, SEED + 1);
        Random random = new Random(SEED);
        List<String> kills = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread chaos = new Thread(() -> {
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
                for (int k = 1; k <= KILLS && System.nanoTime() < deadline; k++) {
                    // a random moment, then the next instant a job is running: the kill lands in the middle of work
                    Thread.sleep(3000 + random.nextInt(Math.max(1, SECONDS * 1000 / (KILLS + 1))));
                    String running = current.get().awaitRunningJob(Duration.ofSeconds(SECONDS));
                    current.get().kill();
                    kills.add(running == null ? "(no job running)" : running);
                    current.set(start(data, "fault-" + k));
                }
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, "chaos");
        chaos.start();
        LoadRun.Result result = load.run(DRAIN);
        chaos.join();
        load.drain(DRAIN);
        int checked = load.verify();
        System.out.println("[fault] kill -9 " + kills.size() + " times, while these jobs ran: " + kills);
        System.out.println("[fault] " + result.summary().replace("\n", "\n[fault] "));
        System.out.println("[fault] " + checked + " jobs checked, " + load.violations().size() + " violations");
        assertEquals(List.of(), load.violations());
        assertEquals(result.accepted(), checked);
        assertTrue(kills.size() >= Math.min(KILLS, 1), "the server was killed: " + kills);
        // Every job the kills interrupted ran again (attempts > 1, with the note) or failed saying why.
        ApiClientLite api = new ApiClientLite(current.get().url);
        int interrupted = 0;
        for (String id : kills) {
            if (id.startsWith("job-")) {
                JsonNode j = api.get("/jobs/" + id);
                String notes = j.path("notes").toString() + j.path("error").asText("");
                assertTrue(notes.contains("the server stopped unexpectedly"), id + " says it was interrupted: " + j);
                interrupted++;
            }
        }
        assertTrue(interrupted > 0, "at least one kill interrupted a running job: " + kills);
        checkFingerprints(load, current.get().url);
        current.get().stop();
    }

    /** Loads some downloaded models back: their parameters' fingerprint must be the one their report names. */
    private void checkFingerprints(LoadRun load, URI url) throws IOException {
        ApiClientLite api = new ApiClientLite(url);
        java.util.Map<String, Integer> perMethod = new java.util.HashMap<>();
        for (LoadRun.Job job : load.jobs()) {
            if (!"succeeded".equals(job.endState) || perMethod.merge(job.method, 1, Integer::sum) > FINGERPRINT_CHECKS_PER_METHOD) {
                continue;
            }
            byte[] model = api.bytes("/jobs/" + job.id + "/model");
            assertEquals(job.modelSha256, LoadRun.sha256(model), job.id);
            String name = api.get("/jobs/" + job.id).path("request").path("output").asText("torchscript")
                    .equals("safetensors") ? ".safetensors" : ".pt";
            Path file = Files.write(dir.resolve(job.id + name), model);
            try (Lethe lethe = Lethe.load(file, "scalar")) {
                assertEquals(job.reportFingerprint, lethe.model().fingerprint(), job.id + " (" + job.method + ")");
            }
        }
    }

    /** Minimal reads for the checks after a run. */
    private static final class ApiClientLite {
        private final URI base;
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

        ApiClientLite(URI base) {
            this.base = base;
        }

        byte[] bytes(String path) throws IOException {
            try {
                HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60)).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertEquals(200, r.statusCode(), path + ": " + new String(r.body(), StandardCharsets.UTF_8));
                return r.body();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }

        JsonNode get(String path) throws IOException {
            return ApiClient.JSON.readTree(bytes(path));
        }
    }

    /** A server in its own JVM (the test's class path and the JVM flags every Lethe process needs). */
    private final class Child {
        final Process process;
        final URI url;

        Child(Process process, URI url) {
            this.process = process;
            this.url = url;
        }

        /** The id of a job running now (waits for one); null when none ran within the timeout. */
        String awaitRunningJob(Duration timeout) throws IOException, InterruptedException {
            ApiClientLite api = new ApiClientLite(url);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                try {
                    JsonNode running = api.get("/jobs?state=running&limit=1").path("jobs");
                    if (running.size() > 0 && running.get(0).path("progress").path("phase").isTextual()) {
                        return running.get(0).path("id").asText();
                    }
                } catch (IOException e) {
                    // not up yet
                }
                Thread.sleep(20);
            }
            return null;
        }

        /** Peak resident set size of the server process (kB), from /proc. */
        long peakRssKb() throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
            return -1;
        }

        /** SIGKILL: no shutdown hook runs, nothing is flushed or closed. */
        void kill() throws InterruptedException {
            process.destroyForcibly();
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "killed");
        }

        void stop() throws InterruptedException {
            process.destroy();
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "stopped");
        }
    }

    private Child start(Path data, String name) throws IOException, InterruptedException {
        ChildServer.Started s = ChildServer.launch(dir, name, data, WORKERS, KILLS + 2);
        children.add(s.process());
        return new Child(s.process(), s.url());
    }
}
