package ai.lethe.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

    @TempDir
    Path dir;

    @Test
    void aFailedWriteLeavesTheOldFileAndNoDebris() throws IOException {
        Path target = dir.resolve("model.pt");
        Files.writeString(target, "old");
        assertThrows(IOException.class, () -> AtomicFiles.write(target, (AtomicFiles.StreamWriter) out -> {
            out.write("half of the new cont".getBytes(StandardCharsets.UTF_8));
            throw new IOException("disk on fire");
        }));
        assertEquals("old", Files.readString(target));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void aFailedFirstWriteCreatesNothing() {
        Path target = dir.resolve("sub/new.json");
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, (AtomicFiles.PathWriter) tmp -> {
            Files.writeString(tmp, "partial");
            throw new IllegalStateException("crash");
        }));
        assertFalse(Files.exists(target));
    }

    @Test
    void writtenFilesAreReadableByOthersAsTheUmaskAllows() throws IOException {
        Path target = dir.resolve("model.pt");
        AtomicFiles.writeString(target, "x");
        var perms = Files.getPosixFilePermissions(target);
        org.junit.jupiter.api.Assertions.assertTrue(perms.contains(java.nio.file.attribute.PosixFilePermission.OWNER_READ)
                && perms.contains(java.nio.file.attribute.PosixFilePermission.OWNER_WRITE));
        // with the usual umask 022 a plain file is rw-r--r--; never the 0600 of a temporary file
        org.junit.jupiter.api.Assertions.assertTrue(perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ)
                || umaskHidesOthersRead(), perms.toString());
    }

    private static boolean umaskHidesOthersRead() throws IOException {
        Path probe = Files.createTempFile("umask", ".probe");
        try {
            Files.delete(probe);
            Files.createFile(probe);
            return !Files.getPosixFilePermissions(probe).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ);
        } finally {
            Files.deleteIfExists(probe);
        }
    }

    @Test
    void successfulWriteReplacesTheTarget() throws IOException {
        Path target = dir.resolve("r.json");
        Files.writeString(target, "old");
        AtomicFiles.writeString(target, "new");
        assertEquals("new", Files.readString(target));
    }

    @Test
    void aSymlinkIsWrittenThroughAndKept() throws IOException {
        Path real = dir.resolve("sub").resolve("model.pt");
        Files.createDirectories(real.getParent());
        Files.writeString(real, "old");
        Path link = dir.resolve("latest.pt");
        Files.createSymbolicLink(link, Path.of("sub", "model.pt")); // relative, as users make them
        AtomicFiles.writeString(link, "new");
        assertTrue(Files.isSymbolicLink(link), "the link is still a link");
        assertEquals("new", Files.readString(real));
        try (var left = Files.list(real.getParent())) {
            assertEquals(1, left.count(), "no temporary file left beside the target");
        }
    }

    @Test
    void aTargetThatIsNotARegularFileIsRefusedAndKept() throws Exception {
        Path sub = Files.createDirectory(dir.resolve("empty-dir"));
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(sub, "x"));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        assertTrue(Files.isDirectory(sub));
        Path fifo = dir.resolve("pipe");
        if (new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0) {
            assertThrows(IOException.class, () -> AtomicFiles.writeString(fifo, "x"));
            assertTrue(Files.exists(fifo) && !Files.isRegularFile(fifo), "the pipe is still a pipe");
        }
    }
}
