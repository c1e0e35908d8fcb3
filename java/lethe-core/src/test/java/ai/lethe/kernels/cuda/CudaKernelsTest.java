package ai.lethe.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.KernelContractTest;
import ai.lethe.kernels.TensorList;
import ai.lethe.kernels.Tolerance;

/**
 * The CUDA kernels against the scalar reference: the same contract as every back end. Skipped, with the
 * reason, where no CUDA device is usable. On a GPU machine: {@code mvn -pl java/lethe-core test -Dtest=CudaKernelsTest}
 * (or, without Maven, {@code lethe selftest --device cuda}).
 */
@Tag("gpu")
@ExtendWith(RequiresCudaDevice.class)
class CudaKernelsTest extends KernelContractTest {

    @Override
    protected Kernels createKernels() {
        return new CudaKernels(0);
    }

    /** Views that start off a 16-byte boundary must take the scalar path inside a tile and still agree. */
    @Test
    void unalignedViewsAgree() {
        CudaKernels cuda = (CudaKernels) kernels;
        float[] acc = new float[10_001];
        float[] g = new float[10_001];
        for (int i = 0; i < g.length; i++) {
            g[i] = (i % 13) - 6.5f;
            acc[i] = i * 1e-3f;
        }
        try (DeviceTensors a = (DeviceTensors) cuda.upload(acc); DeviceTensors b = (DeviceTensors) cuda.upload(g)) {
            long n = acc.length - 1;
            try (TensorList va = cuda.wrapBorrowed(new long[] {a.pointer(0) + 4}, new long[] {n});
                 TensorList vb = cuda.wrapBorrowed(new long[] {b.pointer(0) + 4}, new long[] {n})) {
                cuda.accumulateSquare(va, vb, 0.5f);
            }
            float[] got = cuda.download(a)[0];
            float[] expected = acc.clone();
            for (int i = 1; i < expected.length; i++) {
                expected[i] = expected[i] + 0.5f * (g[i] * g[i]);
            }
            Tolerance.EXACT.assertClose("unaligned accumulate", expected, got);
            assertEquals(acc[0], got[0], 0f, "the element before the view is untouched");
        }
    }
}
