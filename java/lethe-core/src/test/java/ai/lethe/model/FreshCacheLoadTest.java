package ai.lethe.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.lethe.testing.Fixtures;

/**
 * The first run after JavaCPP creates its cache must load only the preset's libtorch. Where Debian's
 * python3-torch is installed (libtorch 1.13 in /usr/lib) this used to crash; everywhere else the test still
 * checks that the libraries come from the fresh cache.
 */
class FreshCacheLoadTest {

    @TempDir
    Path cache;

    @Test
    void firstRunOnAnEmptyCacheLoadsOnlyThePresetsLibtorch() throws Exception {
        boolean debianTorch = Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libtorch_cpu.so"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "-Dorg.bytedeco.javacpp.cachedir=" + cache, "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0",
                "-cp", System.getProperty("java.class.path"), FreshCacheLoad.class.getName(), Fixtures.cnnModel().toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child finished");
        assertEquals(0, p.exitValue(), "child exit status (Debian libtorch present: " + debianTorch + "); output:\n" + out);
        assertTrue(out.contains("classes 10") && out.contains("OK"), out);
        long mapped = out.lines().filter(l -> l.startsWith("mapped ")).count();
        assertTrue(mapped >= 2, out);
        out.lines().filter(l -> l.startsWith("mapped ")).forEach(l ->
                assertTrue(l.substring(7).startsWith(cache.toString()), "loaded from the fresh cache, not the system: " + l));
    }

    @org.junit.jupiter.api.AfterEach
    void removeCache() throws IOException {
        try (Stream<Path> files = Files.walk(cache)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
