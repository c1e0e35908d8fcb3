package ai.lethe.kernels;

/** Memory handling shared by the back ends whose tensors are Java arrays ({@code scalar}, {@code vector}). */
abstract class HostKernels implements Kernels {

    /** The arrays of a list, or a clear error when the list lives elsewhere (for example on a GPU). */
    protected final float[][] arrays(TensorList list) {
        if (list instanceof HostTensors host) {
            return host.arrays();
        }
        throw new IllegalArgumentException(name() + " back end needs host tensors, got " + list.getClass().getSimpleName());
    }

    @Override
    public boolean hostMemory() {
        return true;
    }

    @Override
    public TensorList allocate(long... sizes) {
        return HostTensors.zeros(sizes);
    }

    @Override
    public TensorList upload(float[]... host) {
        return HostTensors.copyOf(host);
    }

    @Override
    public void upload(float[][] host, TensorList dst) {
        Shapes.requireSameShape("upload", dst, host);
        float[][] d = arrays(dst);
        for (int i = 0; i < host.length; i++) {
            System.arraycopy(host[i], 0, d[i], 0, host[i].length);
        }
    }

    @Override
    public void download(TensorList src, float[][] host) {
        Shapes.requireSameShape("download", src, host);
        float[][] s = arrays(src);
        for (int i = 0; i < host.length; i++) {
            System.arraycopy(s[i], 0, host[i], 0, host[i].length);
        }
    }

    @Override
    public void close() {
    }
}
