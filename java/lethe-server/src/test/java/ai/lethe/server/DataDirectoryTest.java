package ai.lethe.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One server per data directory, and what an interrupted one left half-written is removed at the next start. */
class DataDirectoryTest {

    @TempDir
    Path dir;

    @Test
    void aSecondServerCannotOpenADirectoryInUse() throws Exception {
        try (DataDirectory first = DataDirectory.open(dir)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> DataDirectory.open(dir));
            assertTrue(e.getMessage().contains("is in use by another lethe serve"), e.getMessage());
        }
        DataDirectory.open(dir).close(); // free again once closed
    }

    @Test
    void leftoversOfAnInterruptedServerAreRemovedAndCompleteFilesKept() throws Exception {
        try (DataDirectory d = DataDirectory.open(dir)) {
            Files.writeString(d.tmp().resolve("upload-1.partial"), "half an upload");
            Files.createDirectories(d.tmp().resolve("multipart-cache"));
            Files.writeString(d.tmp().resolve("multipart-cache/part"), "x");
            Path job = Files.createDirectories(d.resolve("jobs/job-0123456789abcdef"));
            Files.writeString(job.resolve(".model.pt.123.partial"), "half a model");
            Files.writeString(job.resolve("report.json"), "{}");
        }
        try (DataDirectory d = DataDirectory.open(dir)) {
            try (var files = Files.list(d.tmp())) {
                assertEquals(0, files.count(), "tmp/ is emptied");
            }
            assertFalse(Files.exists(d.resolve("jobs/job-0123456789abcdef/.model.pt.123.partial")));
            assertTrue(Files.exists(d.resolve("jobs/job-0123456789abcdef/report.json")), "complete outputs are kept");
        }
    }
}
