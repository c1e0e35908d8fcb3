package ai.lethe.fuzz;

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.BeforeAll;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * The service's JSON bodies and query strings, sent over HTTP to a real server: the first byte picks the
 * endpoint, the rest is the body (or the query). "$MODEL" in it stands for the registered model's id, so that
 * mutations of a valid request get past the model lookup.
 */
class JsonBodyFuzzTest {

    private static final String[] ENDPOINTS = {"/jobs", "/models", "/models/$MODEL/importances", "/jobs?", "/importances?"};

    /** The server starts once, before fuzzing (its start-up is no input's time). */
    @BeforeAll
    static void startServer() {
        FuzzServer.get();
    }

    /** Standalone Jazzer's one-time set-up. */
    public static void fuzzerInitialize() {
        FuzzServer.get();
    }

    @FuzzTest(maxDuration = FuzzBudget.CI)
    void requestBodies(byte[] input) {
        fuzzerTestOneInput(input);
    }

    public static void fuzzerTestOneInput(byte[] input) {
        if (input.length == 0) {
            return;
        }
        FuzzServer server = FuzzServer.get().ready();
        String endpoint = ENDPOINTS[(input[0] & 0xFF) % ENDPOINTS.length].replace("$MODEL", server.modelId());
        String rest = new String(Arrays.copyOfRange(input, 1, input.length), StandardCharsets.UTF_8)
                .replace("$MODEL", server.modelId());
        HttpRequest.Builder request;
        if (endpoint.endsWith("?")) {
            URI uri;
            try {
                uri = server.base.resolve(endpoint + rest);
            } catch (IllegalArgumentException e) {
                return; // not a URI a client could send
            }
            request = HttpRequest.newBuilder(uri).GET();
        } else {
            request = HttpRequest.newBuilder(server.base.resolve(endpoint)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(rest));
        }
        server.check(server.send(request), endpoint);
    }
}
