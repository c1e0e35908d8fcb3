package ai.lethe.cli;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

import ai.lethe.server.LetheServer;
import ai.lethe.server.ServerConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {
            "Runs Lethe as an HTTP/JSON service: register models (upload, or a file under --allowed-root), compute a model's importance once, queue forget jobs, poll their progress, download the forgotten model and its report. The API is described at /openapi.json.",
            "",
            "Jobs are kept in SQLite in the data directory: an accepted job survives a crash or kill -9. Jobs that were running when the server died are run again on the next start (their outputs are written atomically), up to --max-attempts starts in all; then they fail with the reason. Stop the server with Ctrl-C or SIGTERM: running jobs stop at their next batch and are queued again.",
            "",
            "Example: LETHE_TOKEN=s3cret lethe serve --bind 0.0.0.0 --data-dir /var/lib/lethe --allowed-root /srv/models"
        })
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--bind", paramLabel = "ADDRESS", defaultValue = ServerConfig.DEFAULT_BIND,
            description = "Address to listen on (default: ${DEFAULT-VALUE}). Anything but loopback requires a token.")
    String bind;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "" + ServerConfig.DEFAULT_PORT,
            description = "TCP port (default: ${DEFAULT-VALUE}; 0 = any free port).")
    int port;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Where the database, registered models, importances and job outputs live (default: $XDG_DATA_HOME/lethe, else ~/.local/share/lethe). One server per directory.")
    Path dataDir;

    @Option(names = "--allowed-root", paramLabel = "DIR",
            description = "The only directory whose files requests may name (models to register, idx:/npy:/safetensors: data). Without it, server-side paths are refused and models must be uploaded.")
    Path allowedRoot;

    @Option(names = "--token", paramLabel = "TOKEN",
            description = "Bearer token that every request must send as 'Authorization: Bearer TOKEN' (default: the LETHE_TOKEN environment variable, which keeps it out of the process list). Required unless --bind is loopback.")
    String token;

    @Option(names = "--max-upload-mb", paramLabel = "MB", defaultValue = "" + (ServerConfig.DEFAULT_MAX_UPLOAD_BYTES >> 20),
            description = "Largest model upload in MiB (default: ${DEFAULT-VALUE}); larger ones get 413.")
    long maxUploadMb;

    @Option(names = "--queue-limit", paramLabel = "N", defaultValue = "" + ServerConfig.DEFAULT_QUEUE_LIMIT,
            description = "Jobs that may wait for a worker (default: ${DEFAULT-VALUE}); submissions beyond it get 429.")
    int queueLimit;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "0",
            description = "Jobs run at the same time (0, the default: 1 on a CUDA device, else a quarter of the cores, at least 1; each job already uses every core). A CUDA device always runs one job at a time.")
    int workers;

    @Option(names = "--max-attempts", paramLabel = "N", defaultValue = "" + ServerConfig.DEFAULT_MAX_ATTEMPTS,
            description = "Starts a job gets in all when the server dies under it (default: ${DEFAULT-VALUE}); after that it fails with the reason.")
    int maxAttempts;

    @Mixin
    DeviceOption device;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommandLine cmd = spec.commandLine();
        loggingDefaults();
        long maxMb = 1L << 30; // a petabyte: far beyond any model, and no overflow with the multipart allowance
        if (maxUploadMb < 1 || maxUploadMb > maxMb) {
            throw new CommandLine.ParameterException(cmd, "--max-upload-mb must be between 1 and " + maxMb + ", got " + maxUploadMb);
        }
        ServerConfig config = ServerConfig.of(dataDir != null ? dataDir : defaultDataDir(System.getenv()))
                .bind(bind).port(port).allowedRoot(allowedRoot).token(token != null ? token : System.getenv("LETHE_TOKEN"))
                .maxUploadBytes(maxUploadMb << 20).queueLimit(queueLimit).workers(workers).maxAttempts(maxAttempts)
                .device(device.name);
        LetheServer server;
        try {
            server = LetheServer.start(config);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, e.getMessage());
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "lethe-serve-shutdown"));
        cmd.getOut().println("lethe serve: listening on " + server.url() + " (" + server.workers() + " worker"
                + (server.workers() == 1 ? "" : "s") + " on " + server.backend() + "; Ctrl-C stops)");
        cmd.getOut().flush();
        server.awaitStop();
        return 0;
    }

    /** $XDG_DATA_HOME/lethe, else ~/.local/share/lethe (the XDG base directory default). */
    static Path defaultDataDir(Map<String, String> env) {
        String xdg = env.get("XDG_DATA_HOME");
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
            return Path.of(xdg, "lethe");
        }
        return Path.of(System.getProperty("user.home"), ".local", "share", "lethe");
    }

    /**
     * Server logs at info with timestamps, without Jetty's and Javalin's start-up chatter; settings given with -D in
     * LETHE_JAVA_OPTS win. Has effect only before the first logger is created ({@link Main#run} calls it first).
     */
    static void loggingDefaults() {
        setDefault("org.slf4j.simpleLogger.defaultLogLevel", "info"); // the CLI's default is warn; a server logs its jobs
        setDefault("org.slf4j.simpleLogger.showDateTime", "true");
        setDefault("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
        setDefault("org.slf4j.simpleLogger.log.org.eclipse.jetty", "warn");
        setDefault("org.slf4j.simpleLogger.log.io.javalin", "warn");
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
