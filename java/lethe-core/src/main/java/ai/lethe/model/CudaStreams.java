package ai.lethe.model;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.cuda.CUDAStream;
import org.bytedeco.pytorch.global.torch_cuda;

/**
 * libtorch's CUDA streams, in the one class that touches the preset's CUDA API (loaded only when a model is on a
 * GPU: the CPU build of libtorch has no CUDA natives to link it against).
 */
public final class CudaStreams {

    private CudaStreams() {
    }

    /** The cudaStream_t that libtorch's work on this thread goes to (0 = the legacy default stream). */
    public static long current(int device) {
        try (PointerScope scope = new PointerScope()) {
            CUDAStream s = torch_cuda.getCurrentCUDAStream((byte) device);
            return s.stream() == null ? 0 : s.stream().address();
        }
    }

    /**
     * Makes a fresh stream from libtorch's pool the current one of the calling thread for {@code device}: a worker's
     * forward, backward and kernels then overlap with other workers'. Returns its cudaStream_t.
     */
    public static long useNewStream(int device) {
        try (PointerScope scope = new PointerScope()) {
            CUDAStream s = torch_cuda.getStreamFromPool(false, (byte) device);
            torch_cuda.setCurrentCUDAStream(s);
            return s.stream().address();
        }
    }

    /** Waits for every stream of {@code device}. */
    static void synchronize(int device) {
        torch_cuda.device_synchronize();
    }
}
