package ai.lethe.kernels;

/** The Vector API back end with three worker threads, so the parallel split-and-merge paths run even on 2 cores. */
class VectorKernelsTest extends KernelContractTest {

    @Override
    protected Kernels createKernels() {
        return new VectorKernels(3);
    }
}
