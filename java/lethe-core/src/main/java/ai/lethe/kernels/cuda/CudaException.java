package ai.lethe.kernels.cuda;

/** A CUDA call failed; the message names the call and the CUDA error. */
public final class CudaException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int status;

    CudaException(String call, int status, String reason) {
        super(call + " failed: " + reason + " (status " + status + ")");
        this.status = status;
    }

    public int status() {
        return status;
    }
}
