package ai.lethe.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The attacks of the README's security review that other tests do not already make: path traversal through
 * ids and raw request targets, links and special files under the allowed root, and slow
 * (slowloris-style) clients holding connections open. All traffic goes to the loopback server of the test,
 * with a bounded number of connections for a bounded time.
 */
class ServerSecurityReviewTest {

    /** Slow connections held open at once (bounded: the review must not become a load test). */
    private static final int SLOW_CLIENTS = 16;

    @TempDir
    Path tmp;

    private Path root;
    private ServerHarness harness;
    private ApiClient api;

    @BeforeEach
    void start() throws IOException {
        root = Files.createDirectories(tmp.resolve("root"));
        Files.createDirectories(root.resolve("models"));
        Files.write(root.resolve("models/cnn.pt"), ApiClient.demoModel());
        harness = ServerHarness.start(tmp.resolve("data"), c -> c.allowedRoot(root));
        api = harness.client;
    }

    @AfterEach
    void stop() {
        harness.close();
    }

    @Test
    void traversalThroughIdsAndRequestTargetsFindsNothing() throws IOException {
        for (String path : List.of("/jobs/..%2F..%2F..%2Fetc%2Fpasswd", "/jobs/..%2Flethe.db/model", "/models/%2e%2e%2f%2e%2e%2flethe.db",
                "/importances/..%2F..%2Fetc%2Fpasswd", "/jobs/job-0000000000000000%00/report")) {
            ApiClient.Response r = api.get(path);
            assertTrue(r.status() == 404 || r.status() == 400, path + " -> " + r);
            assertTrue(!r.text().contains("root:"), path + " leaked a file: " + r);
        }
        int port = harness.server.url().getPort();
        for (String target : List.of("/../../../etc/passwd", "/jobs/../../lethe.db", "/%2e%2e/%2e%2e/etc/passwd", "//etc/passwd")) {
            String response = raw(port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            String status = response.substring(0, Math.min(12, response.length()));
            assertTrue(status.startsWith("HTTP/1.1 400") || status.startsWith("HTTP/1.1 404"), target + " -> " + response);
            assertTrue(!response.contains("root:") && !response.contains("SQLite format"), target + " leaked a file");
        }
    }

    @Test
    void serverSidePathsStayUnderTheRootWhateverTheyAre() throws Exception {
        Files.createSymbolicLink(root.resolve("passwd"), Path.of("/etc/passwd"));
        Files.createSymbolicLink(root.resolve("models/up"), root.getParent());
        Files.createDirectories(root.resolve("dir.pt"));
        Path fifo = root.resolve("models/fifo.pt");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, mkfifo.waitFor());
        String[][] cases = {
                {"/etc/passwd", "403", "outside the allowed root"},
                {"../data/lethe.db", "403", "outside the allowed root"},
                {"models/../../data/lethe.db", "403", "outside the allowed root"},
                {"passwd", "403", "through a symbolic link"},
                {"models/up/data/lethe.db", "403", "through a symbolic link"},
                {"dir.pt", "400", "not a regular file"},
                {"models/fifo.pt", "400", "not a regular file"}, // reading a pipe would block a request thread
                {"models/nothing.pt", "400", "no such file"},
                {"models/cnn.pt\u0000.txt", "400", "not a valid path"},
        };
        for (String[] c : cases) {
            api.postJson("/models", "{\"path\": " + ApiClient.JSON.writeValueAsString(c[0]) + "}")
                    .expectError(Integer.parseInt(c[1]), c[2]);
        }
        String model = api.postJson("/models", "{\"path\": \"models/cnn.pt\"}").expect(201).path("id").asText();
        for (String data : List.of("idx:/etc", "npy:..", "safetensors:models/up", "idx:passwd")) {
            ApiClient.Response r = api.postJson("/jobs", "{\"model\": \"" + model + "\", \"data\": \"" + data
                    + "\", \"forget\": {\"classes\": [1]}}");
            assertTrue(r.status() == 403 || r.status() == 400, data + " -> " + r);
        }
        assertEquals(1, api.get("/models").expect(200).path("models").size(), "nothing else was registered");
    }

    @Test
    void slowClientsDoNotStopOthersFromBeingServed() throws Exception {
        int port = harness.server.url().getPort();
        List<Socket> slow = new ArrayList<>();
        try {
            // Half send their request line and headers a byte at a time, half a declared 1 MiB upload body.
            for (int i = 0; i < SLOW_CLIENTS; i++) {
                Socket s = new Socket("127.0.0.1", port);
                s.setSoTimeout(200);
                slow.add(s);
                String head = i % 2 == 0 ? "GET /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
                        : "POST /models?name=slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                        + "Content-Length: 1048576\r\n\r\n";
                s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            }
            for (int round = 0; round < 20; round++) {
                for (Socket s : slow) {
                    s.getOutputStream().write('a');
                    s.getOutputStream().flush();
                }
                // Everyone else is answered meanwhile.
                api.get("/health").expect(200);
                if (round % 5 == 0) {
                    api.get("/jobs").expect(200);
                }
                Thread.sleep(100);
            }
            for (Socket s : slow) { // none of them got an answer: the server waits for the rest, it does not guess
                try {
                    int b = s.getInputStream().read();
                    assertTrue(b < 0 || b == 'H', "a slow request is not answered half-read");
                } catch (SocketTimeoutException expected) {
                    // still waiting, as it should
                }
            }
        } finally {
            for (Socket s : slow) {
                s.close();
            }
        }
        api.get("/health").expect(200);
        assertEquals(0, api.get("/models").expect(200).path("models").size(), "no upload completed");
        try (var left = Files.list(tmp.resolve("data").resolve("tmp"))) {
            // abandoned uploads are deleted as their connections close (allow the server a moment)
            long deadline = System.nanoTime() + 10_000_000_000L;
            List<Path> files = left.toList();
            while (!files.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(100);
                try (var again = Files.list(tmp.resolve("data").resolve("tmp"))) {
                    files = again.toList();
                }
            }
            assertEquals(List.of(), files, "abandoned uploads are removed");
        }
    }

    private static String raw(int port, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
