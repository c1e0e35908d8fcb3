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
    void everyPathButHealthAndTheApiDescriptionNeedsTheToken() {
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
            byte[] model = ApiClient.demoModel();
            assertTrue(model.length > 64 << 10, "the upload is larger than what is read for an unauthenticated client");
            ApiClient.Response refusedUpload = anonymous.postBytes("/models", model, "application/octet-stream");
            refusedUpload.expectError(401, "missing bearer token");
            assertEquals("close", refusedUpload.header("Connection"), "the unread upload ends the connection");
            ApiClient.Response refusedJson = wrong.postJson("/jobs", "{}");
            refusedJson.expectError(401, "invalid bearer token");
            assertEquals(null, refusedJson.header("Connection"), "a small body is read, so the connection stays usable");

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
}
