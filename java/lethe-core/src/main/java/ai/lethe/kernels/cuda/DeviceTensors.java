package ai.lethe.kernels.cuda;

import ai.lethe.kernels.TensorList;

/**
 * A tensor list in GPU memory: device addresses and sizes, plus the device-resident table that lets one
 * kernel launch cover every tensor. Owns its memory when {@link CudaKernels} allocated it; borrows it
 * when it wraps someone else's pointers (for example libtorch CUDA tensors).
 */
public final class DeviceTensors implements TensorList {

    private final CudaKernels owner;
    private final long[] pointers;
    private final long[] sizes;
    private final boolean ownsMemory;
    private long handle;

    DeviceTensors(CudaKernels owner, long[] pointers, long[] sizes, boolean ownsMemory, long handle) {
        this.owner = owner;
        this.pointers = pointers;
        this.sizes = sizes;
        this.ownsMemory = ownsMemory;
        this.handle = handle;
    }

    CudaKernels owner() {
        return owner;
    }

    long handle() {
        if (handle == 0) {
            throw new IllegalStateException("device tensor list is closed");
        }
        return handle;
    }

    /** Device address of tensor {@code i}. */
    public long pointer(int i) {
        return pointers[i];
    }

    @Override
    public int count() {
        return sizes.length;
    }

    @Override
    public long size(int i) {
        return sizes[i];
    }

    @Override
    public long[] sizes() {
        return sizes.clone();
    }

    @Override
    public void close() {
        if (handle == 0) {
            return;
        }
        CudaNative.lethe_list_destroy(handle);
        handle = 0;
        if (ownsMemory) {
            for (long p : pointers) {
                owner.free(p);
            }
        }
        owner.closed(this);
    }
}
