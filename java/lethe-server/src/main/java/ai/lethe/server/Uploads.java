package ai.lethe.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Receives file bodies into the data directory's tmp/, never holding more than a buffer in memory. */
final class Uploads {

    private Uploads() {
    }

    /**
     * Copies {@code in} to a new file in {@code tmpDir} and flushes it to disk; a 413 as soon as more than
     * {@code limit} bytes arrive. The file is deleted on any failure.
     */
    static Path receive(InputStream in, Path tmpDir, long limit) throws IOException {
        Path file = Files.createTempFile(tmpDir, "upload-", ".partial");
        boolean done = false;
        try {
            long total = 0;
            byte[] buffer = new byte[1 << 16];
            try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    total += n;
                    if (total > limit) {
                        throw ApiException.tooLarge("the upload is larger than the limit of " + LetheServer.mebibytes(limit));
                    }
                    out.write(buffer, 0, n);
                }
            }
            if (total == 0) {
                throw ApiException.badRequest("the upload is empty");
            }
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            done = true;
            return file;
        } finally {
            if (!done) {
                Files.deleteIfExists(file);
            }
        }
    }

    /** Copies a server-side file into tmp/ (so that the registered copy cannot change under the server). */
    static Path copy(Path source, Path tmpDir, long limit) throws IOException {
        long size = Files.size(source);
        if (size > limit) {
            throw ApiException.tooLarge("'" + source.getFileName() + "' is larger than the limit of " + LetheServer.mebibytes(limit));
        }
        try (InputStream in = Files.newInputStream(source)) {
            return receive(in, tmpDir, limit);
        }
    }
}
