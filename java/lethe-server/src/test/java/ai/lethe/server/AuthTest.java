package ai.lethe.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bearer tokens: required when configured, and a server that listens beyond loopback refuses to start without one. */
class AuthTest {

    private static final String TOKEN = "s3cret-token";

    @TempDir
    Path data;

    @Test
    void everyPathButHealthAndTheApiDescriptionNeedsTheToken() throws Exception {
        try (ServerHarness h = ServerHarness.start(data, c -> c.token(TOKEN))) {
            ApiClient anonymous = new ApiClient(h.server.url(), null);
            ApiClient wrong = new ApiClient(h.server.url(), "not-the-token");
            ApiClient right = h.client;

            assertTrue(anonymous.get("/health").expect(200).path("token_required").asBoolean());
            assertEquals("3.1.0", anonymous.get("/openapi.json").expect(200).path("openapi").asText());

            ApiClient.Response missing = anonymous.get("/models");
            missing.expectError(401, "missing bearer token");
            assertEquals("Bearer realm=\"lethe\"", missing.header("WWW-Authenticate"));
            wrong.get("/models").expectError(401, "invalid bearer token");
            anonymous.send(anonymous.request("/models").header("Authorization", "Basic " + TOKEN).GET().build())
                    .expectError(401, "must be 'Bearer <token>'");
            anonymous.get("/no-such-route").expectError(401, "missing bearer token");
            ApiClient.Response refusedUpload = anonymous.postBytes("/models", ApiClient.demoModel(), "application/octet-stream");
            refusedUpload.expectError(401, "missing bearer token");
            assertEquals(null, refusedUpload.header("Connection"), "a model-sized body is read, so the client gets the error");
            wrong.postJson("/jobs", "{}").expectError(401, "invalid bearer token");
            // A body announced larger than what an unauthenticated client may make the server read is not waited
            // for: the 401 comes at once (the body is never sent here) and ends the connection.
            String head = rawExchange(h.server.url(), "POST /models HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Type: application/octet-stream\r\nContent-Length: " + (ApiErrors.UNAUTHENTICATED_DRAIN_MAX_BYTES * 20)
                    + "\r\n\r\n");
            assertTrue(head.startsWith("HTTP/1.1 401"), head);
            assertTrue(head.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), head);

            assertEquals(0, right.get("/models").expect(200).path("models").size(), "refused uploads registered nothing");
            right.uploadDemoModel();
            assertEquals(1, right.get("/models").expect(200).path("models").size());
            right.get("/no-such-route").expectError(404, "no such endpoint");
        }
    }

    @Test
    void aServerWithoutTokenListensOnLoopbackOnly() {
        Path dir = data.resolve("never-created");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LetheServer.start(ServerConfig.of(dir).bind("0.0.0.0").port(0)));
        assertTrue(e.getMessage().contains("--bind 0.0.0.0 is reachable from other machines: set a bearer token"), e.getMessage());
        assertFalse(Files.exists(dir), "refused before touching the data directory");

        ServerConfig.of(dir).bind("0.0.0.0").token(TOKEN).validate();
        ServerConfig.of(dir).bind("127.0.0.1").validate();
        ServerConfig.of(dir).bind("localhost").validate();
        ServerConfig.of(dir).bind("::1").validate();
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.of(dir).bind("0.0.0.0").token("  ").validate(),
                "a blank token is no token");
        assertTrue(ServerConfig.isLoopback("127.0.0.2"));
        assertFalse(ServerConfig.isLoopback("0.0.0.0"));
        assertFalse(ServerConfig.isLoopback("::"));
    }

    /** Sends raw request bytes and returns the response head, as a client that has not sent its body yet sees it. */
    private static String rawExchange(java.net.URI u, String request) throws java.io.IOException {
        try (java.net.Socket socket = new java.net.Socket(u.getHost(), u.getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            java.io.InputStream in = socket.getInputStream();
            StringBuilder b = new StringBuilder();
            for (int c; (c = in.read()) >= 0 && !b.toString().endsWith("\r\n\r\n"); ) {
                b.append((char) c);
            }
            return b.toString();
        }
    }
}
