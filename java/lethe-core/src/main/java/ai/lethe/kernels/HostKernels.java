package ai.lethe.kernels;

/** Memory handling shared by the back ends whose tensors are Java arrays ({@code scalar}, {@code vector}). */
abstract class HostKernels extends CheckedKernels {

    @Override
    protected final void requireOwned(String kernel, TensorList list) {
        if (!(list instanceof HostTensors)) {
            throw new IllegalArgumentException(kernel + ": the " + name() + " back end needs host tensors, got "
                    + list.getClass().getSimpleName());
        }
    }

    /** The arrays of a list the checks have accepted. */
    protected final float[][] arrays(TensorList list) {
        return ((HostTensors) list).arrays();
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
    protected void doUpload(float[][] host, TensorList dst) {
        float[][] d = arrays(dst);
        for (int i = 0; i < host.length; i++) {
            System.arraycopy(host[i], 0, d[i], 0, host[i].length);
        }
    }

    @Override
    protected void doDownload(TensorList src, float[][] host) {
        float[][] s = arrays(src);
        for (int i = 0; i < host.length; i++) {
            System.arraycopy(s[i], 0, host[i], 0, host[i].length);
        }
    }

    @Override
    public void close() {
    }
}
