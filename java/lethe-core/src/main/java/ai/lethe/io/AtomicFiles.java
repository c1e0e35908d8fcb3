package ai.lethe.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writes that never leave a half-written file behind: the content goes to a temporary file beside the
 * target, is flushed to disk, and is renamed over the target only when complete. On any failure the
 * temporary file is deleted and the target is untouched.
 */
public final class AtomicFiles {

    /** Writes the content of one file to the given path. */
    @FunctionalInterface
    public interface PathWriter {
        void write(Path temporary) throws IOException;
    }

    /** Writes the content of one file to a stream. */
    @FunctionalInterface
    public interface StreamWriter {
        void write(OutputStream out) throws IOException;
    }

    private AtomicFiles() {
    }

    /** Lets {@code writer} fill a temporary file (it may open it any way it likes), then renames it to target. */
    public static void write(Path target, PathWriter writer) throws IOException {
        Path absolute = resolveTarget(target);
        Path dir = absolute.getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Path tmp;
        try {
            tmp = createTemporary(dir, absolute.getFileName().toString());
        } catch (IOException e) {
            // name what the user asked for, not the temporary file
            throw new IOException("cannot write " + target + ": " + reason(e), e);
        }
        boolean done = false;
        try {
            writer.write(tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            move(tmp, absolute);
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    private static String reason(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "the directory does not exist or does not take new files";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /**
     * Where the content really goes: a symlink is written through (its target replaced, the link kept), and an
     * existing file that is not a regular one (a device such as /dev/null, a pipe) is refused, since renaming
     * over it would replace it.
     */
    private static Path resolveTarget(Path target) throws IOException {
        Path absolute = target.toAbsolutePath();
        if (Files.isSymbolicLink(absolute)) {
            Path link = Files.readSymbolicLink(absolute);
            absolute = absolute.resolveSibling(link).normalize();
            if (Files.isSymbolicLink(absolute)) {
                absolute = absolute.toRealPath(); // a chain of links: the file at its end (fails if it dangles)
            }
        }
        if (Files.exists(absolute) && !Files.isRegularFile(absolute)) {
            throw new IOException(target + " exists and is not a regular file (a directory, device, pipe or socket)");
        }
        return absolute;
    }

    /** Streams the content into a temporary file, then renames it to target. */
    public static void write(Path target, StreamWriter writer) throws IOException {
        write(target, (PathWriter) tmp -> {
            try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp,
                    StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING), 1 << 20)) {
                writer.write(out);
            }
        });
    }

    public static void writeString(Path target, String content) throws IOException {
        write(target, (StreamWriter) out -> out.write(content.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    /**
     * A temporary file beside the target. Asked for with mode 0666 so that the umask applies as it would to
     * a plain file (createTempFile's default 0600 would survive the rename and surprise users).
     */
    private static Path createTemporary(Path dir, String name) throws IOException {
        String prefix = "." + name + ".";
        try {
            return Files.createTempFile(dir, prefix, ".partial",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-rw-rw-")));
        } catch (UnsupportedOperationException e) {
            return Files.createTempFile(dir, prefix, ".partial");
        }
    }

    /**
     * Renames {@code from} to {@code to} (atomically where the file system can) and then flushes the
     * directory, so that after a power loss the new name is there as well as the content.
     */
    public static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
        syncDirectory(to.toAbsolutePath().getParent());
    }

    /**
     * Flushes a directory's entries to disk. Linux allows fsync on a directory opened for reading; where the
     * platform refuses (Windows), the rename is already as durable as that platform makes it.
     */
    public static void syncDirectory(Path dir) {
        if (dir == null) {
            return;
        }
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // best effort, see above
        }
    }
}
