package ai.lethe.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a web page, a symbolic link inside a data directory, or a HEAD request must not get from the server. */
class ServerHardeningTest {

    @TempDir
    Path data;

    @TempDir
    Path root;

    ServerHarness harness;
    ApiClient api;

    @BeforeEach
    void start() {
        harness = ServerHarness.start(data, c -> c.allowedRoot(root));
        api = harness.client;
    }

    @AfterEach
    void stop() {
        harness.close();
    }

    @Test
    void filesInsideADataDirectoryMustNotLinkOutOfTheRoot() throws Exception {
        String model = api.uploadDemoModel();
        Path dir = Files.createDirectories(root.resolve("data"));
        Path outside = Files.createDirectories(data.resolve("elsewhere"));
        Files.writeString(outside.resolve("train-images-idx3-ubyte"), "not really");
        Files.createSymbolicLink(dir.resolve("train-images-idx3-ubyte"), outside.resolve("train-images-idx3-ubyte"));
        api.postJson("/jobs", "{\"model\": \"" + model + "\", \"data\": \"idx:data\", \"forget\": {\"classes\": [1]}}")
                .expectError(403, "data/train-images-idx3-ubyte' leads outside the allowed root");
        Files.delete(dir.resolve("train-images-idx3-ubyte"));
        Files.createSymbolicLink(dir.resolve("inside"), root.resolve("data")); // a link that stays inside is fine
        api.postJson("/jobs", "{\"model\": \"" + model + "\", \"data\": \"idx:data\", \"forget\": {\"classes\": [1]}}").expect(202);
    }

    @Test
    void bodiesMustSayWhatTheyAre() {
        String model = api.uploadDemoModel();
        String job = "{\"model\": \"" + model + "\", \"data\": \"fashion-mnist\", \"forget\": {\"classes\": [1]}}";
        api.postBytes("/jobs", job.getBytes(StandardCharsets.UTF_8), "text/plain").expectError(415, "Content-Type: application/json");
        api.postBytes("/models", ApiClient.demoModel(), "text/plain").expectError(415, "application/octet-stream");
        api.postBytes("/models", ApiClient.demoModel(), "application/x-www-form-urlencoded").expectError(415, "multipart/form-data");
        assertEquals(1, api.get("/models").expect(200).path("models").size(), "nothing registered from refused bodies");
    }

    @Test
    void withoutATokenOnlyLocalRequestsAreServed() throws Exception {
        int port = harness.server.url().getPort();
        assertTrue(raw(port, "GET /models HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n").startsWith("HTTP/1.1 403"),
                "a foreign Host (DNS rebinding) is refused");
        String body = "{\"model\": \"x\"}";
        assertTrue(raw(port, "POST /jobs HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nOrigin: http://evil.example\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body)
                .startsWith("HTTP/1.1 403"), "a web page's request (foreign Origin) is refused");
        assertTrue(raw(port, "GET /models HTTP/1.1\r\nHost: localhost:" + port + "\r\nOrigin: http://localhost:3000\r\n"
                + "Connection: close\r\n\r\n").startsWith("HTTP/1.1 200"), "a local page and Host name are fine");
        api.send(api.request("/models").header("Origin", "https://evil.example").GET().build())
                .expectError(403, "refuses requests from web pages");
    }

    @Test
    void headIsRefusedInsteadOfAnsweredWithoutTheGetLogic() {
        assertEquals(405, api.send(api.request("/models/model-0000000000000000").method("HEAD", HttpRequest.BodyPublishers.noBody())
                .build()).status());
        api.get("/models/model-0000000000000000").expectError(404, "no model");
    }

    @Test
    void aJobRunningOnNoWorkerCanBeCancelled() {
        String model = api.uploadDemoModel();
        // the one worker is busy with a long job; the second is taken from the queue behind the runner's back,
        // as if a worker had claimed it and died without recording an outcome
        String busy = api.submit("{\"model\": \"" + model + "\", \"data\": \"fashion-mnist\", \"forget\": {\"classes\": [1]}}");
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!api.get("/jobs/" + busy).expect(200).path("state").asText().equals("running")) {
            assertTrue(System.nanoTime() < deadline, "the first job did not start");
            ApiClient.sleep(20);
        }
        String orphan = api.submit("{\"model\": \"" + model + "\", \"data\": \"fashion-mnist\", \"forget\": {\"classes\": [2]}}");
        assertEquals(orphan, harness.server.store().claimNext().orElseThrow().id());
        assertEquals("running", api.get("/jobs/" + orphan).expect(200).path("state").asText());
        var cancelled = api.postJson("/jobs/" + orphan + "/cancel", "").expect(200);
        assertEquals("cancelled", cancelled.path("state").asText());
        assertTrue(cancelled.path("error").asText().contains("worker had stopped"), cancelled.toString());
        assertEquals(202, api.postJson("/jobs/" + busy + "/cancel", "").status(), "a job a worker runs is asked to stop");
    }

    @Test
    void hostHeadersAreParsed() {
        assertEquals("localhost", BearerAuth.hostOf("LocalHost:8377"));
        assertEquals("[::1]", BearerAuth.hostOf("[::1]:8377"));
        assertEquals("127.0.0.1", BearerAuth.hostOf("127.0.0.1"));
    }

    private static String raw(int port, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
