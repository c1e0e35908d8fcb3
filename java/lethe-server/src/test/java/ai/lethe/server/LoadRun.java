package ai.lethe.server;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Load on one server: for a stated time, {@code clients} threads register models, submit forget jobs of every
 * method the server serves (read from its /openapi.json), poll them and download their results, while the
 * latencies of the status endpoints are recorded. The server may be killed and restarted underneath (the fault
 * test does so): a client that loses its connection retries reads, and counts a submission that got no answer as
 * ambiguous (it may or may not have been accepted).
 *
 * <p>{@link #verify} then holds the ledger to the server's own account: every accepted job is known to it and
 * ended in exactly one terminal state; a job seen ended never changes again (same state, attempts, finish time:
 * it was not run a second time); every succeeded job's model downloads whole (its SHA-256 is that of the file
 * in the data directory, and of every earlier download) and its report names the downloaded model's fingerprint.
 *
 * <p>All traffic goes to the loopback address the server gives; every request has a timeout.
 */
final class LoadRun {

    /** The eight methods of the core; which of them a server serves is read from its OpenAPI document. */
    static final List<String> ALL_METHODS = List.of("ssd", "lfssd", "mnemonic", "deepclean", "rfa", "finetune", "neggrad",
            "retrain");
    private static final Set<String> TERMINAL = Set.of("succeeded", "failed", "cancelled");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What one client saw of one job it submitted. */
    static final class Job {
        final String id;
        final String method;
        volatile String endState;
        volatile int endAttempts;
        volatile String finishedAt;
        volatile String modelSha256;
        volatile String reportFingerprint;

        Job(String id, String method) {
            this.id = id;
            this.method = method;
        }
    }

    /** The figures of a run. */
    record Result(double seconds, int clients, List<String> methods, int accepted, int ambiguous, int refusedQueueFull,
                  Map<String, Integer> endStates, Map<String, Map<String, Integer>> byMethod, int modelsRegistered,
                  int downloads, long requests, int connectionErrors, Map<String, long[]> latencyMillis,
                  Map<String, Double> latencyP50, Map<String, Double> latencyP99, List<String> violations) {

        String summary() {
            StringBuilder b = new StringBuilder();
            b.append(String.format(Locale.ROOT, "%.1f s, %d clients, methods %s%n", seconds, clients, methods));
            b.append(String.format(Locale.ROOT, "jobs: %d accepted (%.2f/s), %d ambiguous submissions, %d refused with 429; "
                    + "ended %s%n", accepted, accepted / seconds, ambiguous, refusedQueueFull, endStates));
            b.append("by method: ").append(byMethod).append('\n');
            b.append(String.format(Locale.ROOT, "%d models registered, %d results downloaded, %d requests (%.1f/s), "
                    + "%d connection errors%n", modelsRegistered, downloads, requests, requests / seconds, connectionErrors));
            for (String k : latencyP50.keySet()) {
                b.append(String.format(Locale.ROOT, "latency %-16s n=%-6d p50 %.1f ms  p99 %.1f ms%n", k,
                        latencyMillis.get(k).length, latencyP50.get(k), latencyP99.get(k)));
            }
            return b.toString().strip();
        }
    }

    private final Supplier<URI> server;
    private final Path dataDir;
    private final int clients;
    private final Duration duration;
    private final int trainLimit;
    private final long seed;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<Job> jobs = Collections.synchronizedList(new ArrayList<>());
    private final List<String> models = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, ConcurrentLinkedQueue<Long>> latencies = new ConcurrentHashMap<>();
    private final List<String> violations = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger ambiguous = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();
    private final Map<String, AtomicInteger> refusedByMethod = new ConcurrentHashMap<>();
    private final AtomicInteger downloads = new AtomicInteger();
    private final AtomicInteger connectionErrors = new AtomicInteger();
    private final AtomicLong requests = new AtomicLong();
    private final byte[] demoModel = ApiClient.demoModel();
    private List<String> methods;

    /**
     * @param server     where the server is now (it changes when the fault test restarts it)
     * @param dataDir    its data directory (to compare downloads with the files)
     * @param trainLimit training samples per job: small, so that jobs take a second or two on two cores
     */
    LoadRun(Supplier<URI> server, Path dataDir, int clients, Duration duration, int trainLimit, long seed) {
        this.server = server;
        this.dataDir = dataDir;
        this.clients = clients;
        this.duration = duration;
        this.trainLimit = trainLimit;
        this.seed = seed;
    }

    List<String> methods() {
        return methods;
    }

    /** Discovers the methods, registers a first model, runs the clients for the stated time; then waits for the jobs. */
    Result run(Duration drainTimeout) throws InterruptedException {
        methods = servedMethods();
        models.add(register("load-0"));
        long start = System.nanoTime();
        long deadline = start + duration.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            Random random = new Random(seed * 1000 + c);
            int client = c;
            Thread t = new Thread(() -> client(client, random, deadline), "load-client-" + c);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        drain(drainTimeout);
        return result(seconds);
    }

    private void client(int client, Random random, long deadline) {
        int n = 0;
        while (System.nanoTime() < deadline) {
            try {
                if (random.nextInt(8) == 0) {
                    models.add(register("load-" + client + "-" + n));
                } else {
                    String method = methods.get((client + n) % methods.size());
                    Job job = submit(method, random);
                    if (job != null) {
                        follow(job, deadline);
                    }
                }
            } catch (ServerDown e) {
                sleep(200); // the fault test restarts it
            }
            n++;
        }
    }

    /** The method enum of POST /jobs in /openapi.json; when the document has none, each name is tried once. */
    List<String> servedMethods() {
        JsonNode doc = json(get("/openapi.json", "openapi"));
        JsonNode post = doc.path("paths").path("/jobs").path("post");
        Set<String> found = new LinkedHashSet<>();
        collectMethodEnums(doc, post.path("requestBody"), found, 0);
        found.retainAll(ALL_METHODS);
        if (!found.isEmpty()) {
            return List.copyOf(found);
        }
        List<String> served = new ArrayList<>();
        String model = register("probe");
        for (String m : ALL_METHODS) {
            HttpResponse<byte[]> r = send(post("/jobs", "application/json", jobBody(model, m, "{\"classes\": [1]}").getBytes(
                    StandardCharsets.UTF_8)), "probe");
            String text = new String(r.body(), StandardCharsets.UTF_8);
            if (r.statusCode() == 202) {
                served.add(m);
                send(post("/jobs/" + json(r).path("id").asText() + "/cancel", null, new byte[0]), "cancel");
            } else if (!(r.statusCode() == 400 && text.contains("unknown method"))) {
                served.add(m); // refused for another reason: served, with other needs
            }
        }
        return served;
    }

    /** Every "method" property's enum (or const) reachable from {@code node}, following $refs (bounded depth). */
    private static void collectMethodEnums(JsonNode doc, JsonNode node, Set<String> out, int depth) {
        if (node == null || depth > 12) {
            return;
        }
        if (node.isObject()) {
            JsonNode ref = node.get("$ref");
            if (ref != null && ref.isTextual() && ref.asText().startsWith("#/")) {
                JsonNode target = doc;
                for (String part : ref.asText().substring(2).split("/")) {
                    target = target.path(part.replace("~1", "/").replace("~0", "~"));
                }
                collectMethodEnums(doc, target, out, depth + 1);
            }
            JsonNode method = node.path("properties").path("method");
            if (!method.isMissingNode()) {
                method.path("enum").forEach(v -> out.add(v.asText()));
                if (method.path("const").isTextual()) {
                    out.add(method.path("const").asText());
                }
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (!f.getKey().equals("$ref")) {
                    collectMethodEnums(doc, f.getValue(), out, depth + 1);
                }
            }
        } else if (node.isArray()) {
            node.forEach(n -> collectMethodEnums(doc, n, out, depth + 1));
        }
    }

    private String register(String name) {
        HttpResponse<byte[]> r = send(post("/models?name=" + name, "application/octet-stream", demoModel), "register");
        if (r.statusCode() != 201) {
            violation("registering a model: " + r.statusCode() + " " + new String(r.body(), StandardCharsets.UTF_8));
            return models.isEmpty() ? null : models.get(0);
        }
        return json(r).path("id").asText();
    }

    private String jobBody(String model, String method, String forget) {
        return "{\"model\": \"" + model + "\", \"data\": \"fashion-mnist\", \"train_limit\": " + trainLimit
                + ", \"forget\": " + forget + ", \"method\": \"" + method + "\", \"evaluate\": false, \"batch_size\": 32}";
    }

    private Job submit(String method, Random random) {
        String model;
        synchronized (models) {
            model = models.get(random.nextInt(models.size()));
        }
        String forget = switch (random.nextInt(3)) {
            case 0 -> "{\"classes\": [" + random.nextInt(10) + "]}";
            case 1 -> "{\"indices\": [" + random.nextInt(trainLimit) + ", " + random.nextInt(trainLimit) + ", "
                    + random.nextInt(trainLimit) + "]}";
            default -> "{\"random\": 0.05, \"seed\": " + random.nextInt(1000) + "}";
        };
        HttpRequest request = post("/jobs", "application/json", jobBody(model, method, forget).getBytes(StandardCharsets.UTF_8));
        HttpResponse<byte[]> r;
        try {
            r = sendOnce(request, "submit");
        } catch (ServerDown e) {
            ambiguous.incrementAndGet(); // sent, no answer: it may have been committed before the server died
            throw e;
        }
        if (r.statusCode() == 429) {
            refused.incrementAndGet();
            sleep(500);
            return null;
        }
        if (r.statusCode() == 400 || r.statusCode() == 422) {
            // a method that needs what this run does not give it (say, a model trained with Mnemonic codes) is
            // refused with the reason: counted, not a fault of the server
            refusedByMethod.computeIfAbsent(method, k -> new AtomicInteger()).incrementAndGet();
            return null;
        }
        if (r.statusCode() != 202) {
            violation("submitting a " + method + " job: " + r.statusCode() + " " + new String(r.body(), StandardCharsets.UTF_8));
            return null;
        }
        Job job = new Job(json(r).path("id").asText(), method);
        jobs.add(job);
        return job;
    }

    /** Polls the job (timing every status request) until it ends or the run is over; then downloads what it made. */
    private void follow(Job job, long deadline) {
        while (System.nanoTime() < deadline) {
            JsonNode j = json(timedGet("/jobs/" + job.id, "GET /jobs/{id}"));
            if (j.path("attempts").asInt() < 0) {
                violation(job.id + ": negative attempts");
            }
            if (TERMINAL.contains(j.path("state").asText())) {
                observeEnd(job, j);
                if (job.endState.equals("succeeded")) {
                    download(job);
                }
                return;
            }
            if (ThreadLocalRandomHolder.next(4) == 0) {
                timedGet("/health", "GET /health");
            }
            if (ThreadLocalRandomHolder.next(8) == 0) {
                timedGet("/jobs?limit=20", "GET /jobs");
            }
            sleep(100);
        }
    }

    /** The first time a job is seen ended its ending is recorded; any later sighting must match it exactly. */
    private void observeEnd(Job job, JsonNode j) {
        String state = j.path("state").asText();
        int attempts = j.path("attempts").asInt();
        String finished = j.path("finished_at").asText(null);
        synchronized (job) {
            if (job.endState == null) {
                job.endState = state;
                job.endAttempts = attempts;
                job.finishedAt = finished;
                return;
            }
        }
        if (!job.endState.equals(state) || job.endAttempts != attempts || !java.util.Objects.equals(job.finishedAt, finished)) {
            violation(job.id + " ended twice: first " + job.endState + " after attempt " + job.endAttempts + " at " + job.finishedAt
                    + ", now " + state + " after attempt " + attempts + " at " + finished);
        }
    }

    /** Downloads the model and the report: the model's SHA-256 must never change; the report's fingerprint is kept. */
    private void download(Job job) {
        HttpResponse<byte[]> model = get("/jobs/" + job.id + "/model", "download");
        HttpResponse<byte[]> report = get("/jobs/" + job.id + "/report", "report");
        if (model.statusCode() != 200 || report.statusCode() != 200) {
            violation(job.id + " succeeded but its outputs answer " + model.statusCode() + " / " + report.statusCode());
            return;
        }
        String declared = model.headers().firstValue("Content-Length").orElse("");
        if (!declared.equals(Integer.toString(model.body().length))) {
            violation(job.id + ": downloaded " + model.body().length + " bytes, Content-Length " + declared);
        }
        String sha = sha256(model.body());
        String fingerprint = json(report).path("output_fingerprint").asText();
        synchronized (job) {
            if (job.modelSha256 != null && !job.modelSha256.equals(sha)) {
                violation(job.id + ": its model changed between downloads (" + job.modelSha256 + " then " + sha + ")");
            }
            job.modelSha256 = sha;
            if (job.reportFingerprint != null && !job.reportFingerprint.equals(fingerprint)) {
                violation(job.id + ": its report changed between downloads");
            }
            job.reportFingerprint = fingerprint;
        }
        downloads.incrementAndGet();
    }

    /** Waits until every accepted job has ended (the server keeps working through the queue). */
    void drain(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Job> open = new ArrayList<>(jobs);
        while (!open.isEmpty() && System.nanoTime() < deadline) {
            try {
                for (Iterator<Job> it = open.iterator(); it.hasNext(); ) {
                    Job job = it.next();
                    HttpResponse<byte[]> r = get("/jobs/" + job.id, "drain");
                    if (r.statusCode() == 404) {
                        violation(job.id + " was accepted (202) but the server does not know it: lost");
                        it.remove();
                        continue;
                    }
                    JsonNode j = json(r);
                    if (TERMINAL.contains(j.path("state").asText())) {
                        observeEnd(job, j);
                        it.remove();
                    }
                }
            } catch (ServerDown e) {
                // restarting
            }
            sleep(250);
        }
        for (Job job : open) {
            violation(job.id + " did not end within " + timeout);
        }
    }

    /**
     * The final account: every accepted job is on the server's list and ended; its ending is the one first
     * observed; succeeded jobs' models download with the same checksum as before and as the file on disk.
     * Returns the number of jobs checked.
     */
    int verify() {
        JsonNode list = json(get("/jobs?limit=1000", "list"));
        Map<String, JsonNode> listed = new TreeMap<>();
        list.path("jobs").forEach(j -> listed.put(j.path("id").asText(), j));
        Set<String> ours = new LinkedHashSet<>();
        for (Job job : new ArrayList<>(jobs)) {
            ours.add(job.id);
            JsonNode j = listed.get(job.id);
            if (j == null) { // the list shows the newest 1000; older ones are asked for one by one
                HttpResponse<byte[]> one = get("/jobs/" + job.id, "verify");
                if (one.statusCode() == 404) {
                    violation(job.id + " was accepted but the server does not know it: lost");
                    continue;
                }
                j = json(one);
            }
            if (!TERMINAL.contains(j.path("state").asText())) {
                violation(job.id + " has not ended: " + j.path("state").asText());
                continue;
            }
            observeEnd(job, j);
            if (job.endState.equals("succeeded")) {
                String before = job.modelSha256;
                download(job);
                Path file = dataDir.resolve("jobs").resolve(job.id);
                try (var files = Files.list(file)) {
                    Path model = files.filter(p -> p.getFileName().toString().startsWith("model.")).findFirst().orElse(null);
                    if (model == null) {
                        violation(job.id + " succeeded but has no model file");
                    } else if (!sha256(Files.readAllBytes(model)).equals(job.modelSha256)) {
                        violation(job.id + ": the download differs from " + model);
                    }
                } catch (IOException e) {
                    violation(job.id + ": cannot read its outputs: " + e);
                }
                if (before != null && !before.equals(job.modelSha256)) {
                    violation(job.id + ": model changed after it was first downloaded");
                }
            }
        }
        // Jobs the server holds that no client saw accepted: only from submissions that got no answer.
        long strangers = storedJobs() - ours.size();
        if (strangers > ambiguous.get()) {
            violation(strangers + " jobs on the server were never accepted by a client, but only " + ambiguous.get()
                    + " submissions went unanswered");
        }
        return ours.size();
    }

    /** How many jobs the server's database holds (read beside the server: the API lists at most 1000). */
    private long storedJobs() {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:file:" + dataDir.resolve("lethe.db")
                + "?mode=ro"); java.sql.Statement s = c.createStatement();
             java.sql.ResultSet r = s.executeQuery("SELECT count(*) FROM jobs")) {
            return r.getLong(1);
        } catch (java.sql.SQLException e) {
            violation("cannot count the jobs in the database: " + e.getMessage());
            return -1;
        }
    }

    List<Job> jobs() {
        return List.copyOf(jobs);
    }

    List<String> violations() {
        return List.copyOf(violations);
    }

    private Result result(double seconds) {
        Map<String, Integer> endStates = new TreeMap<>();
        Map<String, Map<String, Integer>> byMethod = new TreeMap<>();
        for (Job j : jobs) {
            String s = j.endState == null ? "unseen" : j.endState;
            endStates.merge(s, 1, Integer::sum);
            byMethod.computeIfAbsent(j.method, k -> new TreeMap<>()).merge(s, 1, Integer::sum);
        }
        refusedByMethod.forEach((m, n) -> byMethod.computeIfAbsent(m, k -> new TreeMap<>()).put("refused (400)", n.get()));
        Map<String, long[]> lat = new TreeMap<>();
        Map<String, Double> p50 = new TreeMap<>();
        Map<String, Double> p99 = new TreeMap<>();
        for (Map.Entry<String, ConcurrentLinkedQueue<Long>> e : latencies.entrySet()) {
            long[] v = e.getValue().stream().mapToLong(Long::longValue).sorted().toArray();
            lat.put(e.getKey(), v);
            p50.put(e.getKey(), percentile(v, 0.50) / 1e6);
            p99.put(e.getKey(), percentile(v, 0.99) / 1e6);
        }
        return new Result(seconds, clients, methods, jobs.size(), ambiguous.get(), refused.get(), endStates, byMethod,
                models.size(), downloads.get(), requests.get(), connectionErrors.get(), lat, p50, p99, violations());
    }

    static double percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    // ---- HTTP -----------------------------------------------------------------------------------

    /** The server did not answer (connection refused or reset: it is down or restarting). */
    static final class ServerDown extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ServerDown(String what, Throwable cause) {
            super(what + ": " + cause, cause);
        }
    }

    private HttpRequest post(String path, String contentType, byte[] body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.get().resolve(path)).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return b.build();
    }

    /** A GET whose latency is recorded under {@code endpoint} (only the attempt that was answered: downtime is not latency). */
    private HttpResponse<byte[]> timedGet(String path, String endpoint) {
        HttpResponse<byte[]> r = get(path, endpoint, true);
        if (r.statusCode() != 200) {
            violation(endpoint + " answered " + r.statusCode() + " " + new String(r.body(), StandardCharsets.UTF_8));
        }
        return r;
    }

    private HttpResponse<byte[]> get(String path, String what) {
        return get(path, what, false);
    }

    /** A GET, retried while the server is down (reads are idempotent); gives up after a minute. */
    private HttpResponse<byte[]> get(String path, String what, boolean timed) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                long t0 = System.nanoTime();
                HttpResponse<byte[]> r = sendOnce(HttpRequest.newBuilder(server.get().resolve(path)).timeout(Duration.ofSeconds(60))
                        .GET().build(), what);
                if (timed) {
                    latencies.computeIfAbsent(what, k -> new ConcurrentLinkedQueue<>()).add(System.nanoTime() - t0);
                }
                return r;
            } catch (ServerDown e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                sleep(200);
            }
        }
    }

    private HttpResponse<byte[]> send(HttpRequest request, String what) {
        return sendOnce(request, what);
    }

    private HttpResponse<byte[]> sendOnce(HttpRequest request, String what) {
        requests.incrementAndGet();
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (ConnectException e) {
            connectionErrors.incrementAndGet();
            throw new ServerDown(what, e);
        } catch (IOException e) {
            connectionErrors.incrementAndGet();
            throw new ServerDown(what, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private JsonNode json(HttpResponse<byte[]> r) {
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            violation("not JSON (" + r.statusCode() + "): " + new String(r.body(), StandardCharsets.UTF_8));
            return JSON.createObjectNode();
        }
    }

    private void violation(String what) {
        violations.add(what);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Cheap per-thread randomness for the choice of extra status requests. */
    private static final class ThreadLocalRandomHolder {
        static int next(int bound) {
            return java.util.concurrent.ThreadLocalRandom.current().nextInt(bound);
        }
    }
}
