package ai.lethe.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;

import ai.lethe.data.DataSource;

/**
 * Confines the server-side paths that requests name (models to register, data directories) to one allowed
 * root. A path is checked twice: as written, after normalisation (so {@code ..} cannot climb out), and as
 * the file system resolves it (so a symbolic link cannot point out). What is returned is the real path,
 * which later steps use instead of the client's spelling.
 */
final class PathGuard {

    private final Path root;

    /** {@code root} null: every server-side path is refused. */
    PathGuard(Path root) throws IOException {
        if (root == null) {
            this.root = null;
            return;
        }
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("--allowed-root " + root + " is not a directory");
        }
        this.root = root.toRealPath();
    }

    /** A regular file under the root: absolute, or relative to the root. */
    Path file(String requested) {
        Path real = resolve(requested);
        if (!Files.isRegularFile(real)) {
            throw ApiException.badRequest("'" + requested + "' is not a regular file");
        }
        return real;
    }

    /**
     * A directory under the root: absolute, or relative to the root. The loaders open files inside it by
     * name, so every entry must stay under the root too: a symbolic link in the directory that points out is
     * refused like the directory itself would be.
     */
    Path directory(String requested) {
        Path real = resolve(requested);
        if (!Files.isDirectory(real)) {
            throw ApiException.badRequest("'" + requested + "' is not a directory");
        }
        try (java.nio.file.DirectoryStream<Path> entries = Files.newDirectoryStream(real)) {
            for (Path entry : entries) {
                Path target;
                try {
                    target = entry.toRealPath();
                } catch (IOException e) {
                    continue; // a dangling link opens nothing
                }
                if (!target.startsWith(root)) {
                    throw ApiException.forbidden("'" + requested + "/" + entry.getFileName()
                            + "' leads outside the allowed root through a symbolic link");
                }
            }
        } catch (IOException e) {
            throw ApiException.badRequest("cannot list '" + requested + "': " + e.getMessage());
        }
        return real;
    }

    /**
     * The data spec as jobs will open it: {@code fashion-mnist} as it is, {@code idx:DIR}, {@code npy:DIR}
     * and {@code safetensors:DIR} with DIR confined to the root and replaced by its real path.
     */
    String dataSpec(String spec) {
        if (spec == null || spec.isBlank()) {
            throw ApiException.badRequest("'data' is required (" + DataSource.FORMS + ")");
        }
        String s = spec.strip();
        String lower = s.toLowerCase(Locale.ROOT);
        if (lower.equals("fashion-mnist") || lower.equals("fashion_mnist") || lower.equals("fmnist")) {
            return "fashion-mnist";
        }
        int colon = s.indexOf(':');
        if (colon > 0) {
            String kind = lower.substring(0, colon);
            if (kind.equals("idx") || kind.equals("npy") || kind.equals("safetensors")) {
                return kind + ":" + directory(s.substring(colon + 1));
            }
        }
        throw ApiException.badRequest("unknown data '" + spec + "' (expected " + DataSource.FORMS + ")");
    }

    private Path resolve(String requested) {
        if (root == null) {
            throw ApiException.forbidden("server-side paths are disabled: the server was started without --allowed-root");
        }
        if (requested == null || requested.isBlank()) {
            throw ApiException.badRequest("the path is empty");
        }
        Path asked;
        try {
            asked = root.resolve(requested).normalize();
        } catch (InvalidPathException e) {
            throw ApiException.badRequest("'" + requested + "' is not a valid path");
        }
        if (!asked.startsWith(root)) {
            throw ApiException.forbidden("'" + requested + "' is outside the allowed root");
        }
        Path real;
        try {
            real = asked.toRealPath();
        } catch (IOException e) {
            throw ApiException.badRequest("no such file or directory under the allowed root: '" + requested + "'");
        }
        if (!real.startsWith(root)) {
            throw ApiException.forbidden("'" + requested + "' leads outside the allowed root through a symbolic link");
        }
        return real;
    }
}
