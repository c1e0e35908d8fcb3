package ai.lethe.server;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Objects;

import ai.lethe.kernels.Backends;

/**
 * How {@code lethe serve} runs. Defaults: 127.0.0.1:8377, no server-side paths, 1 GiB uploads, 64 queued
 * jobs, the device's own worker count (see {@link #workers}), re-run an interrupted job up to 3 attempts.
 *
 * <pre>{@code
 * ServerConfig.of(Path.of("lethe-data")).port(0).allowedRoot(Path.of("/srv/models")).workers(2)
 * }</pre>
 */
public final class ServerConfig {

    public static final String DEFAULT_BIND = "127.0.0.1";
    public static final int DEFAULT_PORT = 8377;
    public static final long DEFAULT_MAX_UPLOAD_BYTES = 1L << 30;
    public static final int DEFAULT_QUEUE_LIMIT = 64;
    public static final int DEFAULT_MAX_ATTEMPTS = 3;

    private final Path dataDir;
    private String bind = DEFAULT_BIND;
    private int port = DEFAULT_PORT;
    private Path allowedRoot;
    private String token;
    private long maxUploadBytes = DEFAULT_MAX_UPLOAD_BYTES;
    private int queueLimit = DEFAULT_QUEUE_LIMIT;
    private int workers;
    private String device = "auto";
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;

    private ServerConfig(Path dataDir) {
        this.dataDir = Objects.requireNonNull(dataDir, "data directory");
    }

    /** A configuration that keeps its database, models and outputs in {@code dataDir}. */
    public static ServerConfig of(Path dataDir) {
        return new ServerConfig(dataDir);
    }

    /** The address to listen on (a host name or IP literal). */
    public ServerConfig bind(String address) {
        this.bind = Objects.requireNonNull(address, "bind address");
        return this;
    }

    /** The TCP port; 0 picks a free one ({@link LetheServer#port()} tells which). */
    public ServerConfig port(int p) {
        this.port = p;
        return this;
    }

    /** The only directory tree that requests may name server-side files in; null disables server-side paths. */
    public ServerConfig allowedRoot(Path root) {
        this.allowedRoot = root;
        return this;
    }

    /** The bearer token every API request must carry; null or blank for none (loopback only). */
    public ServerConfig token(String t) {
        this.token = t == null || t.isBlank() ? null : t;
        return this;
    }

    public ServerConfig maxUploadBytes(long bytes) {
        this.maxUploadBytes = bytes;
        return this;
    }

    /** How many jobs may wait for a worker; a submission beyond it gets 429. */
    public ServerConfig queueLimit(int n) {
        this.queueLimit = n;
        return this;
    }

    /** Jobs run at the same time; 0 = the default for the device (see {@link #workersFor}). */
    public ServerConfig workers(int n) {
        this.workers = n;
        return this;
    }

    /** The kernel back end every job runs on, as {@code --device} names it. */
    public ServerConfig device(String d) {
        this.device = Objects.requireNonNull(d, "device");
        return this;
    }

    /** How many times a job may be started in all; a job interrupted more often is failed, not re-run. */
    public ServerConfig maxAttempts(int n) {
        this.maxAttempts = n;
        return this;
    }

    /**
     * Checks the settings; throws IllegalArgumentException with a one-line reason. A token is required
     * whenever the server listens on anything but loopback.
     */
    public void validate() {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("--port must be between 0 and 65535, got " + port);
        }
        if (maxUploadBytes < 1) {
            throw new IllegalArgumentException("--max-upload-mb must be positive");
        }
        if (queueLimit < 1) {
            throw new IllegalArgumentException("--queue-limit must be at least 1, got " + queueLimit);
        }
        if (workers < 0) {
            throw new IllegalArgumentException("--workers must not be negative (0 = the default for the device), got " + workers);
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("--max-attempts must be at least 1, got " + maxAttempts);
        }
        Backends.validate(device);
        if (token == null && !isLoopback(bind)) {
            throw new IllegalArgumentException("--bind " + bind + " is reachable from other machines: set a bearer token"
                    + " with --token or the LETHE_TOKEN environment variable");
        }
    }

    /** True when the address only accepts connections from this machine (127.0.0.0/8, ::1, localhost). */
    static boolean isLoopback(String address) {
        try {
            InetAddress[] all = InetAddress.getAllByName(address);
            for (InetAddress a : all) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return all.length > 0;
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--bind " + address + ": unknown host");
        }
    }

    /**
     * Workers for a back end: one on a CUDA device (its kernels share one context and its memory), else the
     * configured number, by default a quarter of the cores (at least one), since every job already spreads its
     * forward and backward passes over all cores.
     */
    int workersFor(String backendName) {
        if (backendName.equals("cuda")) {
            if (workers > 1) {
                throw new IllegalArgumentException("--workers " + workers + ": a CUDA device runs one job at a time");
            }
            return 1;
        }
        return workers > 0 ? workers : Math.max(1, Runtime.getRuntime().availableProcessors() / 4);
    }

    public Path dataDir() {
        return dataDir;
    }

    public String bind() {
        return bind;
    }

    public int port() {
        return port;
    }

    public Path allowedRoot() {
        return allowedRoot;
    }

    public String token() {
        return token;
    }

    public long maxUploadBytes() {
        return maxUploadBytes;
    }

    public int queueLimit() {
        return queueLimit;
    }

    public int workers() {
        return workers;
    }

    public String device() {
        return device;
    }

    public int maxAttempts() {
        return maxAttempts;
    }
}
