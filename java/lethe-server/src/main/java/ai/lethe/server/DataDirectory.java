package ai.lethe.server;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's data directory:
 * <pre>
 * lethe.db                      SQLite: models, importances, jobs
 * lethe.lock                    held while a server uses the directory
 * models/ID/model.pt            registered TorchScript models (weights.safetensors for safetensors weights)
 * importances/ID/importance_full.safetensors
 * jobs/ID/model.pt, report.json outputs of forget jobs (model.safetensors when asked for)
 * tmp/                          uploads in progress; emptied at startup
 * </pre>
 * Only one server may use a directory at a time (two would run the same queued jobs), so it is locked.
 */
final class DataDirectory implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DataDirectory.class);

    private final Path root;
    private final FileChannel lockChannel;
    private final FileLock lock;

    private DataDirectory(Path root, FileChannel lockChannel, FileLock lock) {
        this.root = root;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /**
     * Creates the directory if needed, locks it, and removes what an interrupted process left: the contents of
     * tmp/ and the temporary files of atomic writes (*.partial).
     */
    static DataDirectory open(Path dir) throws IOException {
        Path root = Files.createDirectories(dir).toRealPath();
        FileChannel ch = FileChannel.open(root.resolve("lethe.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            ch.close();
            throw new IllegalStateException("data directory " + root + " is in use by another lethe serve");
        }
        DataDirectory d = new DataDirectory(root, ch, lock);
        try {
            for (String sub : List.of("models", "importances", "jobs", "tmp")) {
                Files.createDirectories(root.resolve(sub));
            }
            d.sweep();
        } catch (IOException | RuntimeException e) {
            d.close();
            throw e;
        }
        return d;
    }

    private void sweep() throws IOException {
        int removed = 0;
        try (Stream<Path> s = Files.walk(tmp())) {
            for (Path p : s.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(tmp())).toList()) {
                Files.deleteIfExists(p);
                removed++;
            }
        }
        for (String sub : List.of("models", "importances", "jobs")) {
            try (Stream<Path> s = Files.walk(root.resolve(sub))) {
                for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".partial")).toList()) {
                    Files.deleteIfExists(p);
                    removed++;
                }
            }
        }
        if (removed > 0) {
            LOG.info("removed {} temporary files left by an interrupted server", removed);
        }
    }

    Path root() {
        return root;
    }

    Path database() {
        return root.resolve("lethe.db");
    }

    Path tmp() {
        return root.resolve("tmp");
    }

    /** Where a registered model's file lives, relative to the data directory. */
    static String modelFile(String id, String format) {
        return "models/" + id + "/" + (format.equals(ModelRegistry.SAFETENSORS) ? "weights.safetensors" : "model.pt");
    }

    static String importanceFile(String id) {
        return "importances/" + id + "/importance_full.safetensors";
    }

    static String jobFile(String id, String name) {
        return "jobs/" + id + "/" + name;
    }

    /** A path stored in the database (relative to the data directory) as a file. */
    Path resolve(String relative) {
        return root.resolve(relative);
    }

    @Override
    public void close() throws IOException {
        try {
            if (lock.isValid()) {
                lock.release();
            }
        } finally {
            lockChannel.close();
        }
    }
}
