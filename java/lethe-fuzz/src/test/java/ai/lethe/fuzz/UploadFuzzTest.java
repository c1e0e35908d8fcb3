package ai.lethe.fuzz;

import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.BeforeAll;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Model uploads to POST /models, over HTTP to a real server: the input's first line is the Content-Type (a
 * multipart boundary, or a raw type), the rest is the body as sent. Every answer is a documented status with a
 * JSON body: a model that loads is registered (201), anything else is refused (400, 413, 415, 422).
 */
class UploadFuzzTest {

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
    void modelUploads(byte[] input) {
        fuzzerTestOneInput(input);
    }

    public static void fuzzerTestOneInput(byte[] input) {
        int nl = 0;
        while (nl < input.length && input[nl] != '\n') {
            nl++;
        }
        String contentType = new String(input, 0, nl, StandardCharsets.ISO_8859_1).strip();
        byte[] body = nl < input.length ? Arrays.copyOfRange(input, nl + 1, input.length) : new byte[0];
        FuzzServer server = FuzzServer.get().ready();
        HttpRequest.Builder request = HttpRequest.newBuilder(server.base.resolve("/models"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        try {
            if (!contentType.isEmpty()) {
                request.header("Content-Type", contentType);
            }
        } catch (IllegalArgumentException e) {
            return; // a header value no client can send
        }
        server.check(server.send(request), "POST /models (" + contentType + ")");
    }
}
