package ai.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.lethe.server.LetheServer;
import ai.lethe.server.ServerConfig;

/** {@code lethe serve}: its help, its refusals (one line, exit 2 or 1), and a real start and stop. */
class ServeCommandTest {

    @TempDir
    Path dir;

    @Test
    void helpExplainsEveryOption() {
        CliRunner.Result r = CliRunner.run("serve", "--help");
        assertEquals(0, r.code(), r.toString());
        for (String option : List.of("--bind", "--port", "--data-dir", "--allowed-root", "--token", "LETHE_TOKEN",
                "--max-upload-mb", "--queue-limit", "--workers", "--max-attempts", "--device", "/openapi.json")) {
            assertTrue(r.out().contains(option), option + " in:\n" + r.out());
        }
    }

    @Test
    void listeningBeyondLoopbackWithoutATokenIsAUsageError() {
        Path data = dir.resolve("data");
        // --token= (blank) means no token, whatever LETHE_TOKEN says in the environment running the tests.
        CliRunner.Result r = CliRunner.run("serve", "--bind", "0.0.0.0", "--token=", "--data-dir", data.toString());
        assertEquals(2, r.code(), r.toString());
        assertEquals(1, r.err().strip().lines().count(), r.toString());
        assertTrue(r.err().contains("--bind 0.0.0.0 is reachable from other machines: set a bearer token"), r.err());
        assertFalse(Files.exists(data), "nothing was created");
        CliRunner.Result badPort = CliRunner.run("serve", "--port", "70000", "--data-dir", data.toString());
        assertEquals(2, badPort.code(), badPort.toString());
        assertTrue(badPort.err().contains("--port must be between 0 and 65535"), badPort.err());
    }

    @Test
    void aDataDirectoryInUseIsAnError() throws Exception {
        try (LetheServer running = LetheServer.start(ServerConfig.of(dir).port(0).device("scalar"))) {
            CliRunner.Result r = CliRunner.run("serve", "--port", "0", "--data-dir", dir.toString(), "--device", "scalar");
            assertEquals(1, r.code(), r.toString());
            assertEquals(1, r.err().strip().lines().count(), r.toString());
            assertTrue(r.err().contains("is in use by another lethe serve"), r.err());
        }
    }

    @Test
    void servesUntilTerminated() throws Exception {
        Path out = dir.resolve("serve.out");
        Path err = dir.resolve("serve.err");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dorg.bytedeco.javacpp.maxBytes=0",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "serve", "--port", "0", "--data-dir", dir.resolve("data").toString(), "--device", "scalar")
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().remove("LETHE_TOKEN");
        Process p = pb.start();
        try {
            String url = null;
            for (int i = 0; i < 1200 && url == null && p.isAlive(); i++) {
                for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
                    if (line.startsWith("lethe serve: listening on ")) {
                        url = line.substring("lethe serve: listening on ".length()).split(" ")[0];
                    }
                }
                Thread.sleep(50);
            }
            assertTrue(url != null, "started; stderr:\n" + Files.readString(err));
            HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            assertTrue(health.body().contains("\"status\" : \"ok\""), health.body());
            p.destroy(); // SIGTERM: the shutdown hook closes the server
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "stopped on SIGTERM");
            String log = Files.readString(err);
            assertTrue(log.contains("ai.lethe.server.LetheServer - stopped"), log);
            assertFalse(log.contains("org.eclipse.jetty"), "Jetty's start-up chatter is off:\n" + log);
            assertTrue(Files.exists(dir.resolve("data").resolve("lethe.db")));
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void theDefaultDataDirectoryFollowsXdg() {
        assertEquals(Path.of("/srv/xdg/lethe"), ServeCommand.defaultDataDir(Map.of("XDG_DATA_HOME", "/srv/xdg")));
        assertEquals(Path.of(System.getProperty("user.home"), ".local", "share", "lethe"), ServeCommand.defaultDataDir(Map.of()));
        assertEquals(Path.of(System.getProperty("user.home"), ".local", "share", "lethe"),
                ServeCommand.defaultDataDir(Map.of("XDG_DATA_HOME", "relative/path")), "XDG says: ignore relative paths");
    }
}
