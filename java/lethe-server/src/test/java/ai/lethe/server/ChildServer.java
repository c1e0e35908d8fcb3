package ai.lethe.server;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Child-process entry point of {@link ServerRestartTest} and {@link ServiceLoadTest}: a server on a free loopback
 * port over the given data directory. Prints {@code LETHE_PORT <port>} once it listens, then serves until killed.
 *
 * <p>Arguments: DATA_DIR WORKERS MAX_ATTEMPTS.
 */
public final class ChildServer {

    private ChildServer() {
    }

    /** A started child server: its process and its base URL. */
    record Started(Process process, URI url) {
    }

    /**
     * Starts a server in its own JVM (the test's class path and the JVM flags every Lethe process needs), its
     * stdout and stderr in {@code logs}/NAME.out and .err, and waits up to two minutes for its port.
     */
    static Started launch(Path logs, String name, Path data, int workers, int maxAttempts)
            throws IOException, InterruptedException {
        Path out = logs.resolve(name + ".out");
        Path err = logs.resolve(name + ".err");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dorg.bytedeco.javacpp.maxBytes=0", "-Xmx2g"));
        if (System.getProperty("lethe.cache.dir") != null) {
            cmd.add("-Dlethe.cache.dir=" + System.getProperty("lethe.cache.dir"));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ChildServer.class.getName(), data.toString(),
                Integer.toString(workers), Integer.toString(maxAttempts)));
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        try {
            while (System.nanoTime() < deadline) {
                for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
                    if (line.startsWith("LETHE_PORT ")) {
                        return new Started(p, URI.create("http://127.0.0.1:" + line.substring("LETHE_PORT ".length()).strip()));
                    }
                }
                if (!p.isAlive()) {
                    throw new AssertionError("the " + name + " server exited with " + p.exitValue() + ":\n" + Files.readString(err));
                }
                Thread.sleep(50);
            }
            throw new AssertionError("the " + name + " server did not start:\n" + Files.readString(err));
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            p.destroyForcibly();
            throw e;
        }
    }

    public static void main(String[] args) throws Exception {
        ServerConfig config = ServerConfig.of(Path.of(args[0])).port(0).device("cpu")
                .workers(Integer.parseInt(args[1])).maxAttempts(Integer.parseInt(args[2]));
        LetheServer server = LetheServer.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        System.out.println("LETHE_PORT " + server.port());
        System.out.flush();
        server.awaitStop();
    }
}
