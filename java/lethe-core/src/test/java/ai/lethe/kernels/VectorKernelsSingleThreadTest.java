package ai.lethe.kernels;

/** The Vector API back end on the caller's thread only (no fork/join). */
class VectorKernelsSingleThreadTest extends KernelContractTest {

    @Override
    protected Kernels createKernels() {
        return new VectorKernels(1);
    }
}
