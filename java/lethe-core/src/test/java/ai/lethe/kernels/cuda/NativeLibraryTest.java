package ai.lethe.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import ai.lethe.kernels.Backends;
import ai.lethe.kernels.Kernels;

/**
 * The build really produced device code when nvcc was present, and a machine without a driver loads the
 * library and falls back to the CPU instead of crashing. Runs in CI (no GPU there).
 */
class NativeLibraryTest {

    private static boolean builtWithNvcc() {
        return "false".equals(System.getProperty("lethe.cuda.skip"));
    }

    @Test
    void nativeLibraryHoldsSm80AndSm90Code() throws Exception {
        assumeTrue(builtWithNvcc(), "this build skipped the CUDA back end (no nvcc)");
        Path lib = Path.of(System.getProperty("lethe.native.dir"), "liblethe_cuda.so");
        assertTrue(Files.isRegularFile(lib), lib + " exists");
        List<NativeLibraryInspector.Image> images = NativeLibraryInspector.images(lib);
        assertTrue(images.contains(new NativeLibraryInspector.Image("elf", 90)), "sm_90 cubin in " + images);
        assertTrue(images.contains(new NativeLibraryInspector.Image("elf", 80)), "sm_80 cubin in " + images);
        assertTrue(images.contains(new NativeLibraryInspector.Image("ptx", 90)), "compute_90 PTX in " + images);
        // one image per architecture for each of the kernel translation units
        long sm90 = images.stream().filter(i -> i.equals(new NativeLibraryInspector.Image("elf", 90))).count();
        assertEquals(images.stream().filter(i -> i.equals(new NativeLibraryInspector.Image("elf", 80))).count(), sm90);
    }

    /**
     * Only the C ABI may be visible: a statically linked C++ runtime once exported STB_GNU_UNIQUE symbols that
     * bound process-wide and crashed libtorch on Temurin 25.
     */
    @Test
    void libraryExportsOnlyItsCAbi() throws Exception {
        assumeTrue(builtWithNvcc(), "this build skipped the CUDA back end (no nvcc)");
        List<String> symbols = NativeLibraryInspector.exportedSymbols(
                Path.of(System.getProperty("lethe.native.dir"), "liblethe_cuda.so"));
        assertTrue(symbols.contains("lethe_ssd_dampen") && symbols.contains("lethe_cuda_device_count"), symbols.toString());
        List<String> foreign = symbols.stream().filter(s -> !s.startsWith("lethe_")).toList();
        assertTrue(foreign.isEmpty(), "exported beyond the C ABI: " + foreign.subList(0, Math.min(10, foreign.size())));
    }

    @Test
    void libraryIsBundledBesideTheJniGlue() {
        assumeTrue(builtWithNvcc(), "this build skipped the CUDA back end (no nvcc)");
        assertTrue(CudaKernels.libraryLoaded(), "native library loads: " + CudaKernels.probe().reason());
        assertEquals(13, CudaKernels.runtimeVersion() / 1000, "built against CUDA 13");
    }

    @Test
    void withoutADeviceAutoFallsBackToTheVectorBackEnd() {
        CudaKernels.Availability a = CudaKernels.probe();
        assumeFalse(a.available(), "a CUDA device is present here");
        assertFalse(a.reason().isBlank());
        try (Kernels k = Backends.open("auto")) {
            assertEquals("vector", k.name(), "auto without a device");
        }
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> Backends.open("cuda"));
        assertTrue(e.getMessage().startsWith("CUDA back end unavailable: "), e.getMessage());
    }

    @Test
    void unknownDeviceNamesAreRejected() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Backends.open("tpu"));
        assertTrue(e.getMessage().contains("expected one of"), e.getMessage());
    }
}
