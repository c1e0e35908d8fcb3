package ai.lethe.importance;

import java.util.Arrays;

/**
 * How many workers an importance pass runs and where: each worker is a thread with its own model replica (and, on
 * a GPU, its own CUDA stream and kernel context) that takes every {@code count}-th batch; the partial sums are
 * added in worker order at the end. Importances are sums, so the result equals the one-worker pass up to the order
 * of fp32 additions.
 *
 * @param count       number of workers, at least 1
 * @param cudaDevices the GPU of each worker in turn (worker w runs on {@code cudaDevices[w % length]}); empty on
 *                    the CPU
 */
public record Workers(int count, int[] cudaDevices) {

    /** One worker, wherever the model is. */
    public static final Workers ONE = new Workers(1, new int[0]);

    public Workers {
        if (count < 1 || count > 64) {
            throw new ai.lethe.InvalidSettingException("workers must be between 1 and 64, got " + count);
        }
        cudaDevices = cudaDevices == null ? new int[0] : cudaDevices.clone();
    }

    /** The GPU of worker {@code w}, -1 on the CPU. */
    public int deviceOf(int w) {
        return cudaDevices.length == 0 ? -1 : cudaDevices[w % cudaDevices.length];
    }

    @Override
    public int[] cudaDevices() {
        return cudaDevices.clone();
    }

    @Override
    public String toString() {
        return count + (cudaDevices.length == 0 ? " on the CPU" : " on cuda:" + Arrays.toString(cudaDevices).replaceAll("[\\[\\] ]", ""));
    }
}
