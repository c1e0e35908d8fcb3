package ai.lethe.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/** A real server on a free loopback port, in this JVM, over a test's data directory. */
final class ServerHarness implements AutoCloseable {

    final LetheServer server;
    final ApiClient client;
    final Path dataDir;

    private ServerHarness(LetheServer server, Path dataDir, String token) {
        this.server = server;
        this.dataDir = dataDir;
        this.client = new ApiClient(server.url(), token);
    }

    /** Starts a server on {@code dataDir} (port 0, CPU); {@code tweak} adjusts the configuration. */
    static ServerHarness start(Path dataDir, UnaryOperator<ServerConfig> tweak) {
        ServerConfig config = tweak.apply(ServerConfig.of(dataDir).port(0).device("cpu").workers(1));
        try {
            return new ServerHarness(LetheServer.start(config), dataDir, config.token());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        server.close();
    }
}
