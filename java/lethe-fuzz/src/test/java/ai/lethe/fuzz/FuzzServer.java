package ai.lethe.fuzz;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.lethe.server.LetheServer;
import ai.lethe.server.ServerConfig;

/**
 * One real server per JVM on a loopback port, over a fresh data directory, with an allowed root that holds the
 * demo model, a data directory and a symbolic link pointing out of it; the demo model is registered. The HTTP
 * targets send their inputs to it and hold every answer to the documented statuses and the JSON error body.
 */
final class FuzzServer {

    /** Every status the API documents; 500 (unexpected) is a finding. */
    static final Set<Integer> DOCUMENTED = Set.of(200, 201, 202, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429);

    static final ObjectMapper JSON = new ObjectMapper();
    private static FuzzServer instance;

    final URI base;
    final Path root;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private volatile String modelId;

    private FuzzServer(URI base, Path root) {
        this.base = base;
        this.root = root;
    }

    /** Called at the start of every input: registers the demo model once (after the server's start, not in it). */
    synchronized FuzzServer ready() {
        if (modelId == null) {
            modelId = register();
        }
        return this;
    }

    String modelId() {
        return ready().modelId;
    }

    static synchronized FuzzServer get() {
        if (instance == null) {
            try {
                Path dir = FuzzSupport.dir().resolve("server");
                Path root = Files.createDirectories(dir.resolve("root"));
                Files.createDirectories(root.resolve("models"));
                Files.write(root.resolve("models/cnn.pt"), demoModel());
                Files.createDirectories(root.resolve("data"));
                Files.createSymbolicLink(root.resolve("escape"), Path.of("/etc"));
                // queue limit 1: valid submissions beyond the first are refused (429) after full validation, so the
                // fuzzer reaches every check without the worker running a backlog of jobs
                LetheServer server = LetheServer.start(ServerConfig.of(dir.resolve("data-dir")).port(0).device("cpu")
                        .workers(1).queueLimit(1).maxUploadBytes(4L << 20).allowedRoot(root));
                Runtime.getRuntime().addShutdownHook(new Thread(server::close));
                instance = new FuzzServer(server.url(), root);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return instance;
    }

    static byte[] demoModel() {
        try (InputStream in = FuzzServer.class.getResourceAsStream("/ai/lethe/demo/fmnist-cnn.pt")) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String register() {
        HttpResponse<byte[]> r = send(HttpRequest.newBuilder(base.resolve("/models?name=fuzz"))
                .header("Content-Type", "application/octet-stream").POST(HttpRequest.BodyPublishers.ofByteArray(demoModel())));
        if (r.statusCode() != 201) {
            throw new IllegalStateException("cannot register the demo model: " + r.statusCode() + " "
                    + new String(r.body(), StandardCharsets.UTF_8));
        }
        return json(r).path("id").asText();
    }

    HttpResponse<byte[]> send(HttpRequest.Builder request) {
        try {
            return http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new AssertionError("no answer from the server: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * The answer must carry a documented status; an error must be the JSON body {status, error, message} with a
     * one-line message. A job or importance that was accepted is cancelled at once (the fuzzer is not here to run them).
     */
    JsonNode check(HttpResponse<byte[]> r, String what) {
        int status = r.statusCode();
        if (!DOCUMENTED.contains(status)) {
            throw new AssertionError(what + ": undocumented status " + status + ": " + new String(r.body(), StandardCharsets.UTF_8));
        }
        JsonNode body = json(r);
        if (status >= 400) {
            String message = body.path("message").asText("");
            if (body.path("status").asInt() != status || !body.path("error").isTextual() || message.isBlank()
                    || message.contains("\n")) {
                throw new AssertionError(what + ": not the documented error body: " + status + " " + body);
            }
        }
        if (status == 202) {
            String job = body.has("job") && body.path("job").isTextual() ? body.path("job").asText() : body.path("id").asText();
            send(HttpRequest.newBuilder(base.resolve("/jobs/" + job + "/cancel")).POST(HttpRequest.BodyPublishers.noBody()));
        }
        return body;
    }

    private static JsonNode json(HttpResponse<byte[]> r) {
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON (status " + r.statusCode() + "): " + new String(r.body(), StandardCharsets.UTF_8), e);
        }
    }
}
