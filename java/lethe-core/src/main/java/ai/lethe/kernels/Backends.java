package ai.lethe.kernels;

import java.util.Locale;

import ai.lethe.kernels.cuda.CudaKernels;

/** Chooses a kernel back end by name, as {@code --device} does. */
public final class Backends {

    /** The names {@link #open} accepts. */
    public static final String NAMES = "auto, cpu, cuda, vector, scalar";

    private Backends() {
    }

    /**
     * Opens a back end: {@code auto} = CUDA when a device is present, else the Vector API; {@code cpu} and
     * {@code vector} = the Vector API on all cores; {@code scalar} = the single-threaded reference;
     * {@code cuda} = device 0, or {@code cuda:N}. Fails with a clear message for an unknown name or when
     * CUDA is asked for and cannot run.
     */
    public static Kernels open(String device) {
        String d = device == null ? "auto" : device.trim().toLowerCase(Locale.ROOT);
        switch (d) {
            case "auto":
                return CudaKernels.probe().available() ? new CudaKernels(0) : new VectorKernels();
            case "cpu":
            case "vector":
                return new VectorKernels();
            case "scalar":
                return new ScalarKernels();
            case "cuda":
                return new CudaKernels(0);
            default:
                if (d.startsWith("cuda:")) {
                    try {
                        return new CudaKernels(Integer.parseInt(d.substring(5)));
                    } catch (NumberFormatException e) {
                        // fall through to the error below
                    }
                }
                throw new IllegalArgumentException("unknown device '" + device + "' (expected one of " + NAMES + ", or cuda:N)");
        }
    }
}
