package ai.lethe.kernels.cuda;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

import ai.lethe.kernels.KernelContractTest;
import ai.lethe.kernels.Kernels;

/**
 * The CUDA kernels against the scalar reference: the same checks as every back end, plus unaligned views.
 * Skipped, with the reason, where no CUDA device is usable. On a GPU machine:
 * {@code mvn -pl java/lethe-core test -Dtest=CudaKernelsTest}, or without Maven {@code lethe selftest --device cuda}
 * (the GPU kit).
 */
@Tag("gpu")
@ExtendWith(RequiresCudaDevice.class)
class CudaKernelsTest extends KernelContractTest {

    @Override
    protected Kernels createKernels() {
        return new CudaKernels(0);
    }
}
