package ai.lethe.server;

import java.nio.file.Path;

/**
 * Child-process entry point of {@link ServerRestartTest}: a server on a free loopback port over the given data
 * directory. Prints {@code LETHE_PORT <port>} once it listens, then serves until killed.
 *
 * <p>Arguments: DATA_DIR WORKERS MAX_ATTEMPTS.
 */
public final class ChildServer {

    private ChildServer() {
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
