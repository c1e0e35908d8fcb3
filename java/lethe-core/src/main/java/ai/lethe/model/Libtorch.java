package ai.lethe.model;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;

import org.bytedeco.javacpp.Loader;

/**
 * Loads libtorch through the JavaCPP preset, safely.
 *
 * <p>Why this exists: JavaCPP extracts and loads the preset's libraries one by one, and it loads the small
 * libtorch.so stub before it has extracted libtorch_cpu.so. The dynamic linker then misses $ORIGIN and
 * falls through to the default path; where Debian's python3-torch is installed that holds libtorch 1.13,
 * which gets loaded next to 2.10 and crashes the first run after the cache is created. Extracting the
 * whole native directory before loading anything closes that window.
 *
 * <p>Two settings follow the load, both measured on the fixture CNN (157 batches of 64, 2 cores):
 * <ul>
 *   <li>OpenBLAS runs single-threaded: its own thread pool otherwise fights libtorch's OpenMP threads for the
 *       same cores (backward 7.5 s → 1.3 s). libtorch parallelises around BLAS calls itself. Override with the
 *       environment variable LETHE_BLAS_THREADS or -Dlethe.blas.threads=N.</li>
 *   <li>TorchScript runs on its simple executor, not the profiling one, which re-specialises graphs and
 *       guards every call (forward 0.85 s → 0.46 s). -Dlethe.jit.profiling=true restores it.</li>
 * </ul>
 */
public final class Libtorch {

    private static final Logger LOG = LoggerFactory.getLogger(Libtorch.class);
    private static volatile boolean loaded;

    private Libtorch() {
    }

    public static void ensureLoaded() {
        if (loaded) {
            return;
        }
        synchronized (Libtorch.class) {
            if (loaded) {
                return;
            }
            try {
                // The CPU build's natives sit under linux-x86_64/, the CUDA build's (mvn -Pgpu) under linux-x86_64-gpu/.
                for (String dir : new String[] {Loader.getPlatform() + "-gpu", Loader.getPlatform()}) {
                    if (Libtorch.class.getResource("/org/bytedeco/pytorch/" + dir + "/") != null) {
                        Loader.cacheResources("/org/bytedeco/pytorch/" + dir + "/");
                        break;
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot extract libtorch into JavaCPP's cache ("
                        + System.getProperty("org.bytedeco.javacpp.cachedir", "~/.javacpp/cache") + "): " + e.getMessage(), e);
            }
            Loader.load(org.bytedeco.pytorch.global.torch.class);
            org.bytedeco.openblas.global.openblas_nolapack.blas_set_num_threads(blasThreads());
            if (!Boolean.getBoolean("lethe.jit.profiling")) {
                org.bytedeco.pytorch.global.torch.getExecutorMode().put(false);
                org.bytedeco.pytorch.global.torch.getProfilingMode().put(false);
            }
            loaded = true;
            LOG.info("libtorch loaded ({}); OpenBLAS threads {}; JIT profiling executor {}", Loader.getPlatform(), blasThreads(),
                    Boolean.getBoolean("lethe.jit.profiling") ? "on" : "off");
        }
    }

    /** Whether this libtorch build sees a CUDA device (false, never an error, on the CPU build). */
    public static boolean cudaAvailable() {
        ensureLoaded();
        try {
            return org.bytedeco.pytorch.global.torch.cuda_is_available();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** Which libtorch build is on the class path: "cuda" (linux-x86_64-gpu) or "cpu". */
    public static String build() {
        return Libtorch.class.getResource("/org/bytedeco/pytorch/" + Loader.getPlatform() + "-gpu/") != null ? "cuda" : "cpu";
    }

    /** Throws a one-line {@link ModelException} unless libtorch can place tensors on CUDA device {@code device}. */
    static void requireCuda(int device) {
        if (!cudaAvailable()) {
            throw new ModelException("libtorch cannot use a GPU here: " + ("cpu".equals(build())
                    ? "this is libtorch's CPU build (build Lethe with -Dlethe.torch=gpu, or on a machine with an NVIDIA driver)"
                    : "libtorch's CUDA build found no usable device (no NVIDIA driver, or CUDA libraries missing)"));
        }
        int count = org.bytedeco.pytorch.global.torch.cuda_device_count();
        if (device < 0 || device >= count) {
            throw new ModelException("CUDA device " + device + " does not exist (libtorch sees " + count + ")");
        }
    }

    private static int blasThreads() {
        String v = System.getProperty("lethe.blas.threads", System.getenv("LETHE_BLAS_THREADS"));
        if (v == null || v.isBlank()) {
            return 1;
        }
        try {
            return Math.max(1, Integer.parseInt(v.strip()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("LETHE_BLAS_THREADS / lethe.blas.threads must be a number, got '" + v + "'");
        }
    }

    /** First line of a libtorch error, which otherwise carries a C++ backtrace. */
    static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage()).strip();
        int nl = m.indexOf('\n');
        String line = nl < 0 ? m : m.substring(0, nl).strip();
        int bt = line.indexOf("Exception raised from");
        return bt > 0 ? line.substring(0, bt).strip() : line;
    }
}
