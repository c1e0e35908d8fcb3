package ai.lethe.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Talks to a running server over real HTTP, as a client would. */
final class ApiClient {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> TERMINAL = Set.of("succeeded", "failed", "cancelled");

    /** A response, with its body kept as bytes. */
    record Response(int status, HttpHeaders headers, byte[] body) {

        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (status " + status + "): " + text(), e);
            }
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        /** Asserts the status and returns the JSON body. */
        JsonNode expect(int expected) {
            assertEquals(expected, status, "status; body: " + text());
            return json();
        }

        /** Asserts an error response: the status, a JSON body {status, error, message} and a message containing {@code fragment}. */
        JsonNode expectError(int expected, String fragment) {
            JsonNode j = expect(expected);
            assertTrue(String.valueOf(header("Content-Type")).startsWith("application/json"), "JSON content type: " + headers);
            assertEquals(expected, j.path("status").asInt(), j.toString());
            assertTrue(j.path("error").isTextual() && !j.path("error").asText().isBlank(), j.toString());
            String message = j.path("message").asText();
            assertTrue(message.contains(fragment), "'" + fragment + "' in the message: " + message);
            assertTrue(!message.contains("\n"), "one line: " + message);
            return j;
        }

        @Override
        public String toString() {
            return status + " " + text();
        }
    }

    private final URI base;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    ApiClient(URI base, String token) {
        this.base = base;
        this.token = token;
    }

    URI uri(String path) {
        return base.resolve(path);
    }

    HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(120));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    Response send(HttpRequest request) {
        try {
            HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
            return new Response(r.statusCode(), r.headers(), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(request.method() + " " + request.uri() + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    Response get(String path) {
        return send(request(path).GET().build());
    }

    Response postJson(String path, String json) {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    Response postBytes(String path, byte[] body, String contentType) {
        return send(request(path).header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
    }

    /** POST /models with the bundled demo CNN as the body; returns the model's id. */
    String uploadDemoModel() {
        return postBytes("/models?name=demo-cnn", demoModel(), "application/octet-stream").expect(201).path("id").asText();
    }

    /** Submits a forget job; returns its id. */
    String submit(String json) {
        return postJson("/jobs", json).expect(202).path("id").asText();
    }

    /** Polls a job until it has ended; fails after {@code timeout}. */
    JsonNode awaitEnd(String jobId, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode j = get("/jobs/" + jobId).expect(200);
            if (TERMINAL.contains(j.path("state").asText())) {
                return j;
            }
            sleep(100);
        }
        fail("job " + jobId + " did not end within " + timeout + ": " + get("/jobs/" + jobId).text());
        return null;
    }

    /** Polls a job until it has ended and asserts that it succeeded. */
    JsonNode awaitSuccess(String jobId, Duration timeout) {
        JsonNode j = awaitEnd(jobId, timeout);
        assertEquals("succeeded", j.path("state").asText(), j.toString());
        return j;
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The bundled demo CNN (lethe-core's main resources): a 10-class Fashion-MNIST TorchScript model. */
    static byte[] demoModel() {
        try (InputStream in = ApiClient.class.getResourceAsStream("/ai/lethe/demo/fmnist-cnn.pt")) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
