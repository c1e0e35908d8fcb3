package ai.lethe.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/** The worker pool's size per device and the settings that are refused before anything starts. */
class ServerConfigTest {

    private static final Path DIR = Path.of("unused");

    @Test
    void aCudaDeviceRunsOneJobAtATimeAndCpuJobsAreSizedToTheCores() {
        assertEquals(1, ServerConfig.of(DIR).workersFor("cuda"));
        assertEquals(1, ServerConfig.of(DIR).workers(1).workersFor("cuda"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServerConfig.of(DIR).workers(2).workersFor("cuda"));
        assertTrue(e.getMessage().contains("a CUDA device runs one job at a time"), e.getMessage());

        int cores = Runtime.getRuntime().availableProcessors();
        assertEquals(Math.max(1, cores / 4), ServerConfig.of(DIR).workersFor("vector"));
        assertEquals(3, ServerConfig.of(DIR).workers(3).workersFor("vector"));
        assertEquals(5, ServerConfig.of(DIR).workers(5).workersFor("scalar"));
    }

    @Test
    void badSettingsAreRefusedWithTheOptionTheyCameFrom() {
        assertRefused("--port must be between 0 and 65535", ServerConfig.of(DIR).port(65_536));
        assertRefused("--queue-limit must be at least 1", ServerConfig.of(DIR).queueLimit(0));
        assertRefused("--workers must not be negative", ServerConfig.of(DIR).workers(-1));
        assertRefused("--max-attempts must be at least 1", ServerConfig.of(DIR).maxAttempts(0));
        assertRefused("--max-upload-mb must be positive", ServerConfig.of(DIR).maxUploadBytes(0));
        assertRefused("unknown device 'tpu'", ServerConfig.of(DIR).device("tpu"));
        assertRefused("--bind no-such-host.invalid: unknown host", ServerConfig.of(DIR).bind("no-such-host.invalid"));
    }

    private static void assertRefused(String fragment, ServerConfig config) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, config::validate);
        assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' in: " + e.getMessage());
    }
}
