package ai.lethe.kernels;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;

import ai.lethe.kernels.cuda.CudaKernels;

/** Chooses a kernel back end by name, as {@code --device} does. */
public final class Backends {

    private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

    /** The names {@link #open} accepts. */
    public static final String NAMES = "auto, cpu, cuda, cuda:N, cuda:N,M,... (several GPUs), cuda:all, vector, scalar";

    private Backends() {
    }

    /** Throws {@link IllegalArgumentException} unless {@code device} is a name {@link #open} accepts. */
    public static String validate(String device) {
        String d = device == null ? "" : device.trim().toLowerCase(Locale.ROOT);
        if (d.equals("auto") || d.equals("cpu") || d.equals("vector") || d.equals("scalar") || d.equals("cuda")
                || d.equals("cuda:all") || d.matches("cuda:\\d{1,3}(,\\d{1,3})*")) {
            return d;
        }
        throw new ai.lethe.InvalidSettingException("unknown device '" + device + "' (expected one of " + NAMES + ")");
    }

    /**
     * The GPUs a device name lists, in order ({@code cuda} = [0], {@code cuda:1,0} = [1, 0], {@code cuda:all} = every
     * device present; a device may be named twice, for two workers on it); empty for the CPU back ends. A device that
     * does not exist is an {@link ai.lethe.InvalidSettingException}.
     */
    public static int[] cudaDevices(String device) {
        String d = validate(device == null ? "auto" : device);
        if (d.equals("auto")) {
            return CudaKernels.probe().available() ? new int[] {0} : new int[0];
        }
        if (!d.startsWith("cuda")) {
            return new int[0];
        }
        if (d.equals("cuda")) {
            return new int[] {0};
        }
        int present = CudaKernels.probe().available() ? CudaKernels.probe().devices() : 0;
        if (d.equals("cuda:all")) {
            if (present == 0) {
                throw new IllegalStateException("CUDA back end unavailable: " + CudaKernels.probe().reason());
            }
            return java.util.stream.IntStream.range(0, present).toArray();
        }
        int[] out = java.util.Arrays.stream(d.substring(5).split(",")).mapToInt(Integer::parseInt).toArray();
        for (int i : out) {
            if (present > 0 && i >= present) {
                throw new ai.lethe.InvalidSettingException("CUDA device " + i + " does not exist (" + present + " found)");
            }
        }
        return out;
    }

    /**
     * Opens a back end: {@code auto} = CUDA when a device is present, else the Vector API; {@code cpu} and
     * {@code vector} = the Vector API on all cores; {@code scalar} = the single-threaded reference;
     * {@code cuda} = device 0, or {@code cuda:N}. Fails with a clear message for an unknown name or when
     * CUDA is asked for and cannot run.
     */
    public static Kernels open(String device) {
        String d = validate(device == null ? "auto" : device);
        switch (d) {
            case "auto":
                if (CudaKernels.probe().available()) {
                    LOG.info("device auto: CUDA device 0");
                    return new CudaKernels(0);
                }
                LOG.info("device auto: no CUDA device ({}); the Vector API on the CPU", CudaKernels.probe().reason());
                return vector();
            case "cpu":
            case "vector":
                return vector();
            case "scalar":
                return new ScalarKernels();
            case "cuda":
                return new CudaKernels(0);
            default: // cuda:N, a list or all, validated above: the first device hosts the model and the merge
                return new CudaKernels(cudaDevices(d)[0]);
        }
    }

    /**
     * The Vector API back end on every core; in a JVM started without {@code --add-modules jdk.incubator.vector}
     * (a program using Lethe as a library, say) the scalar reference instead, with one warning per JVM, rather
     * than a NoClassDefFoundError ({@link VectorKernels} falls back by itself). With {@code -Dlethe.warmup=true}, also
     * starts {@link KernelWarmup}.
     */
    public static Kernels vector() {
        if (VectorKernels.apiAvailable() && KernelWarmup.requested()) {
            KernelWarmup.start();
        }
        return new VectorKernels();
    }

    /** Whether this JVM resolved the incubating Vector API module (see {@link VectorKernels#apiAvailable}). */
    public static boolean vectorApiAvailable() {
        return VectorKernels.apiAvailable();
    }
}
