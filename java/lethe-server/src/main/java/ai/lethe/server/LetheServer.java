package ai.lethe.server;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Locale;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.lethe.kernels.Backends;
import ai.lethe.kernels.Kernels;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.config.SizeUnit;
import io.javalin.json.JavalinJackson;

/**
 * {@code lethe serve}: the HTTP/JSON API over a data directory. Models are registered once; importance and
 * forget jobs are queued durably in SQLite and run by a bounded worker pool; results are downloaded when done.
 *
 * <pre>{@code
 * try (LetheServer server = LetheServer.start(ServerConfig.of(Path.of("lethe-data")).port(0))) {
 *     System.out.println(server.url());   // http://127.0.0.1:PORT
 *     server.awaitStop();
 * }
 * }</pre>
 *
 * <p>Starting recovers from an unclean stop: jobs found running in the database were interrupted, and are queued
 * again (or failed with the reason once they have used up their attempts, see {@link JobStore#recoverInterrupted}).
 */
public final class LetheServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LetheServer.class);

    /** The largest JSON request body (index lists of deletion requests can be long). */
    static final long MAX_JSON_BYTES = 16L << 20;

    private final ServerConfig config;
    private final DataDirectory dir;
    private final JobStore store;
    private final JobRunner runner;
    private final Api api;
    private final Javalin app;
    private final String backend;
    private final Object stopped = new Object();
    private boolean closing;
    private boolean closed;

    /** The job store (tests reach behind the API with it). */
    JobStore store() {
        return store;
    }

    private LetheServer(ServerConfig config, DataDirectory dir, JobStore store, JobRunner runner, Api api, Javalin app,
                        String backend) {
        this.config = config;
        this.dir = dir;
        this.store = store;
        this.runner = runner;
        this.api = api;
        this.app = app;
        this.backend = backend;
    }

    /**
     * Validates the configuration (IllegalArgumentException with the reason), opens and locks the data directory,
     * recovers interrupted jobs, starts the workers and listens.
     */
    public static LetheServer start(ServerConfig config) throws IOException {
        config.validate();
        PathGuard guard = new PathGuard(config.allowedRoot());
        String backend;
        String backendName;
        try (Kernels k = Backends.open(config.device())) { // fails here, not in every job, when the device is unusable
            backendName = k.name();
            backend = k.description();
        }
        if ("vector".equals(backendName)) {
            ai.lethe.kernels.KernelWarmup.startUnlessDeclined(); // compiles the kernels while the service waits for its first job
        }
        int workers = config.workersFor(backendName);
        DataDirectory dir = DataDirectory.open(config.dataDir());
        JobStore store = null;
        JobRunner runner = null;
        Javalin app = null;
        try {
            store = JobStore.open(dir.database());
            for (JobStore.Recovery r : store.recoverInterrupted(config.maxAttempts())) {
                LOG.warn("{}: {}", r.jobId(), r.note());
            }
            ModelRegistry models = new ModelRegistry(dir, store);
            runner = new JobRunner(store, dir, models, guard, config.device(), workers);
            Api api = new Api(config, store, dir, models, runner, guard, backend);
            app = Javalin.create(cfg -> {
                cfg.startup.showJavalinBanner = false;
                cfg.startup.showOldJavalinVersionWarning = false;
                cfg.jsonMapper(new JavalinJackson(Json.MAPPER, false));
                cfg.http.prefer405over404 = true;
                cfg.http.maxRequestSize = MAX_JSON_BYTES;
                cfg.http.compressionStrategy = CompressionStrategy.NONE; // downloads declare their Content-Length
                cfg.jetty.multipartConfig.cacheDirectory(dir.tmp().toString());
                cfg.jetty.multipartConfig.maxFileSize(config.maxUploadBytes(), SizeUnit.BYTES);
                cfg.jetty.multipartConfig.maxTotalRequestSize(config.maxUploadBytes() + Api.MULTIPART_OVERHEAD_BYTES, SizeUnit.BYTES);
                cfg.jetty.multipartConfig.maxInMemoryFileSize(1, SizeUnit.MB);
                cfg.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
                cfg.requestLogger.http((ctx, ms) -> LOG.debug("{} {} {} {} ms", ctx.method(), ctx.path(), ctx.statusCode(),
                        String.format(Locale.ROOT, "%.1f", ms)));
                ApiErrors.install(cfg, config.maxUploadBytes());
                api.install(cfg);
            });
            app.start(config.bind(), config.port());
            runner.start();
            LetheServer server = new LetheServer(config, dir, store, runner, api, app, backend);
            LOG.info("listening on {} (data {}, {} worker{} on {}, queue limit {}, {})", server.url(), dir.root(), workers,
                    workers == 1 ? "" : "s", backend, config.queueLimit(),
                    config.token() == null ? "no token" : "bearer token required");
            return server;
        } catch (IOException | RuntimeException e) {
            if (app != null) {
                app.stop();
            }
            if (runner != null) {
                runner.close();
            }
            if (store != null) {
                store.close();
            }
            dir.close();
            throw e;
        }
    }

    /** The port it listens on (the chosen one when the configuration said 0). */
    public int port() {
        return app.port();
    }

    /** Where clients reach it, e.g. http://127.0.0.1:8377. */
    public URI url() {
        String host = config.bind().contains(":") ? "[" + config.bind() + "]" : config.bind();
        return URI.create("http://" + host + ":" + port());
    }

    /** The kernel back end jobs run on, as the core describes it. */
    public String backend() {
        return backend;
    }

    public int workers() {
        return runner.workers();
    }

    /** The methods and paths it serves, as "GET /jobs/{id}" (for the test that holds openapi.json to them). */
    public List<String> routes() {
        return api.routes().stream().map(r -> r.method().name() + " " + r.path()).toList();
    }

    /** Blocks until {@link #close} (called from another thread or a shutdown hook) has finished. */
    public void awaitStop() throws InterruptedException {
        synchronized (stopped) {
            while (!closed) {
                stopped.wait();
            }
        }
    }

    /**
     * Stops listening, stops the running jobs at their next batch (they are queued again for the next start),
     * and closes the database and the data directory's lock.
     */
    @Override
    public void close() {
        synchronized (stopped) {
            if (closing) {
                return;
            }
            closing = true;
        }
        try {
            app.stop();
        } finally {
            try {
                runner.close();
            } finally {
                try {
                    store.close();
                } finally {
                    try {
                        dir.close();
                    } catch (IOException e) {
                        LOG.warn("cannot release the data directory lock: {}", e.getMessage());
                    }
                    synchronized (stopped) {
                        closed = true;
                        stopped.notifyAll();
                    }
                }
            }
        }
        LOG.info("stopped");
    }

    static String mebibytes(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
    }
}
