package ai.lethe.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The vector back end in JVMs this test starts: one without {@code --add-modules jdk.incubator.vector} (a program
 * using Lethe as a library) falls back to the scalar kernels with one warning instead of failing, whether it opens
 * the back end through {@link Backends} or constructs {@link VectorKernels} itself; one with the module and a
 * forced 128-bit width runs every kernel check against the reference at that width, on both.
 */
class VectorFallbackTest {

    @TempDir
    Path dir;

    private record Child(int code, String out, String err) {
    }

    private Child run(List<String> jvmFlags) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmFlags);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), VectorApiProbe.class.getName()));
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the child JVM finished");
        return new Child(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    @Test
    void withoutTheVectorModuleTheScalarKernelsRunWithOneWarning() throws Exception {
        Child c = run(List.of());
        assertEquals(0, c.code(), c.toString());
        assertTrue(c.out().contains("backends: scalar scalar"), c.out());
        assertTrue(c.out().contains("direct: scalar, 1 threads"), "new VectorKernels() stands in with the scalar kernels: " + c.out());
        assertTrue(c.out().contains("standing in for the Vector API"), c.out());
        assertTrue(c.out().contains("failed: 0"), c.out());
        long warnings = c.err().lines().filter(l -> l.contains("Vector API is not in this JVM")).count();
        assertEquals(1, warnings, "one warning for three back ends made: " + c.err());
        assertTrue(!c.err().contains("NoClassDefFoundError"), c.err());
    }

    @Test
    void aForcedNarrowerWidthPassesEveryKernelCheck() throws Exception {
        Child c = run(List.of("--add-modules", "jdk.incubator.vector", "-D" + VectorKernels.BITS_PROPERTY + "=128"));
        assertEquals(0, c.code(), c.toString());
        assertTrue(c.out().contains("backends: vector vector"), c.out());
        assertTrue(c.out().contains("description: vector (128-bit, 4 float lanes"), c.out());
        assertTrue(c.out().contains("direct: vector, "), c.out());
        assertTrue(c.out().contains("direct description: vector (128-bit, 4 float lanes"), c.out());
        assertTrue(c.out().contains("failed: 0"), c.out());
        assertTrue(!c.err().contains("Vector API is not in this JVM"), c.err());
    }
}
