package ai.lethe.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.lethe.io.AtomicFiles;

/**
 * Keeps a decompressed copy of gzip data files, so that readers can seek in them. The copy is made once,
 * atomically, in {@code $LETHE_CACHE_DIR} (or -Dlethe.cache.dir, default ~/.cache/lethe), named after the
 * source file, its size and modification time; a stale or unwritable cache only means streaming instead.
 */
final class DecompressedCache {

    private static final Logger LOG = LoggerFactory.getLogger(DecompressedCache.class);

    private DecompressedCache() {
    }

    static Path directory() {
        String dir = System.getProperty("lethe.cache.dir", System.getenv("LETHE_CACHE_DIR"));
        if (dir == null || dir.isBlank()) {
            return Path.of(System.getProperty("user.home"), ".cache", "lethe");
        }
        return Path.of(dir);
    }

    /** The decompressed copy of {@code gz}, made if needed, or null when no copy can be made. */
    static Path of(Path gz, long expectedBytes) {
        if ("false".equals(System.getProperty("lethe.cache"))) {
            return null;
        }
        try {
            Path source = gz.toRealPath();
            String name = source.getFileName() + "-" + Files.size(source) + "-" + Files.getLastModifiedTime(source).toMillis()
                    + "-" + Integer.toHexString(source.toString().hashCode()) + ".raw";
            Path copy = directory().resolve("decompressed").resolve(name);
            if (Files.isRegularFile(copy) && Files.size(copy) >= expectedBytes) {
                return copy;
            }
            AtomicFiles.write(copy, (AtomicFiles.StreamWriter) out -> {
                try (InputStream in = new GZIPInputStream(Files.newInputStream(source), 1 << 16)) {
                    in.transferTo(out);
                }
            });
            return Files.size(copy) >= expectedBytes ? copy : null;
        } catch (IOException | RuntimeException e) {
            LOG.debug("no decompressed copy of {} ({}); streaming it instead", gz, e.toString());
            return null;
        }
    }
}
