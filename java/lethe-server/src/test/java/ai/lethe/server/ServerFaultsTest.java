package ai.lethe.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Faults of the data directory: a database file that is not SQLite or is damaged is refused at start-up with a
 * clear error and left as it was (never silently recreated); a full file system fails the job that cannot write
 * its outputs, with the reason, while the database stays readable and other jobs are unaffected.
 */
class ServerFaultsTest {

    private static final Duration JOB_TIMEOUT = Duration.ofSeconds(180);
    private static final String JOB = "{\"model\": \"%s\", \"data\": \"fashion-mnist\", \"train_limit\": 300,"
            + " \"forget\": {\"classes\": [1]}, \"evaluate\": false}";

    @TempDir
    Path dir;

    @Test
    void aDatabaseFileThatIsNotSqliteIsRefusedAndKept() throws IOException {
        Path data = Files.createDirectories(dir.resolve("data"));
        byte[] garbage = "this is not a database, but somebody's notes\n".repeat(200).getBytes();
        Files.write(data.resolve("lethe.db"), garbage);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ServerHarness.start(data, c -> c).close());
        assertTrue(e.getMessage().contains("lethe.db") && e.getMessage().contains("not a Lethe database"), e.getMessage());
        assertArrayEquals(garbage, Files.readAllBytes(data.resolve("lethe.db")), "the file is left as it was");
    }

    @Test
    void aDamagedDatabaseIsRefusedAtStartupAndKept() throws IOException {
        Path data = dir.resolve("data");
        try (ServerHarness h = ServerHarness.start(data, c -> c)) {
            String model = h.client.uploadDemoModel();
            for (int i = 0; i < 40; i++) { // a few pages of rows (each importance is queued and cancelled at once)
                String job = h.client.postJson("/models/" + model + "/importances", "{\"data\": \"fashion-mnist\", "
                        + "\"train_limit\": " + (1000 + i) + "}").expect(202).path("job").asText();
                h.client.postJson("/jobs/" + job + "/cancel", "");
            }
        }
        Path db = data.resolve("lethe.db");
        assertTrue(Files.size(db) >= 3 * 4096, "the database spans several pages: " + Files.size(db));
        try (RandomAccessFile f = new RandomAccessFile(db.toFile(), "rw")) { // scribble over the second page
            f.seek(4096 + 8);
            f.write(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x13, 0x37, 0x13, 0x37});
            f.seek(4096 + 200);
            f.write("damaged".repeat(100).getBytes());
        }
        byte[] damaged = Files.readAllBytes(db);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ServerHarness.start(data, c -> c).close());
        assertTrue(e.getMessage().contains("lethe.db") && e.getMessage().contains("damaged"), e.getMessage());
        assertArrayEquals(damaged, Files.readAllBytes(db), "the file is left as it was");
    }

    @Test
    void aFullFileSystemFailsTheJobWithTheReasonAndTheRestKeepsWorking() throws Exception {
        Path data = Files.createDirectories(dir.resolve("tmpfs"));
        Assumptions.assumeTrue(mountTmpfs(data, "4m"), "mounting a tmpfs is not permitted here");
        try {
            try (ServerHarness h = ServerHarness.start(data, c -> c)) {
                String model = h.client.uploadDemoModel();
                String before = h.client.submit(JOB.formatted(model));
                h.client.awaitSuccess(before, JOB_TIMEOUT);

                // Fill the file system, leaving less room than a forgotten model (~430 KB) but some for the database.
                Path filler = data.resolve("filler");
                fill(filler, data, 96 << 10);
                String starved = h.client.submit(JOB.formatted(model));
                JsonNode failed = h.client.awaitEnd(starved, JOB_TIMEOUT);
                assertEquals("failed", failed.path("state").asText(), failed.toString());
                assertTrue(failed.path("error").asText().contains("No space left on device"), failed.toString());
                h.client.get("/jobs/" + starved + "/model").expectError(409, "No space left on device");

                // The database is readable, the earlier job's outputs intact, nothing half-written is left.
                h.client.get("/jobs").expect(200);
                assertEquals(200, h.client.get("/jobs/" + before + "/model").status());
                assertNoPartialFiles(data);

                // With room again, the next job succeeds.
                Files.delete(filler);
                h.client.awaitSuccess(h.client.submit(JOB.formatted(model)), JOB_TIMEOUT);
            }
            // And the database opens again.
            try (ServerHarness h = ServerHarness.start(data, c -> c)) {
                assertEquals(3, h.client.get("/jobs").expect(200).path("jobs").size());
            }
        } finally {
            umount(data);
        }
    }

    /** Writes {@code filler} until the file system has at most {@code leave} bytes free. */
    private static void fill(Path filler, Path fs, long leave) throws IOException {
        long free = Files.getFileStore(fs).getUsableSpace();
        byte[] chunk = new byte[64 << 10];
        try (var out = Files.newOutputStream(filler)) {
            for (long n = free - leave; n > 0; n -= chunk.length) {
                out.write(chunk, 0, (int) Math.min(chunk.length, n));
            }
        }
        assertTrue(Files.getFileStore(fs).getUsableSpace() <= leave + chunk.length, "filled");
    }

    private static void assertNoPartialFiles(Path data) throws IOException {
        try (Stream<Path> files = Files.walk(data)) {
            assertEquals(List.of(), files.filter(p -> p.getFileName().toString().endsWith(".partial")).toList());
        }
    }

    /** Mounts a tmpfs of {@code size} on {@code dir}; false where the machine does not allow it (not root, no capability). */
    static boolean mountTmpfs(Path dir, String size) throws InterruptedException {
        try {
            Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString())
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    static void umount(Path dir) throws InterruptedException, IOException {
        Process p = new ProcessBuilder("umount", dir.toString()).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        p.waitFor(30, TimeUnit.SECONDS);
    }
}
