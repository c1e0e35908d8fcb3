package ai.lethe.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.ScalarKernels;
import ai.lethe.kernels.TensorList;

/** The kernel benchmark's baseline is one contiguous copy of as many floats, not one copy per tensor. */
class KernelBenchmarkTest {

    @Test
    void theCopyBaselineIsOneContiguousBufferOfTheListsTotalSize() {
        long[] sizes = {7, 65, 1, 4097, 300};
        List<long[]> copied = new ArrayList<>();
        Kernels plain = new ScalarKernels();
        Kernels recording = (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class},
                (p, m, args) -> {
                    if (m.getName().equals("copy")) {
                        TensorList src = (TensorList) args[0];
                        long[] shape = new long[src.count()];
                        for (int t = 0; t < shape.length; t++) {
                            shape[t] = src.size(t);
                        }
                        copied.add(shape);
                    }
                    try {
                        return m.invoke(plain, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        KernelBenchmark.Report report = new KernelBenchmark(recording, sizes, new long[0], 1).run(null);

        assertTrue(copied.size() > 0);
        for (long[] shape : copied) {
            assertEquals(1, shape.length, "the baseline copies one buffer");
            assertEquals(ParameterShapes.total(sizes), shape[0]);
        }
        assertTrue(report.baseline().contains("one contiguous array of 4,470 floats"), report.baseline());
        assertNull(report.peakGbps(), "the CPU back ends report no peak bandwidth");
        assertNull(report.smallList(), "no small list asked for");
        KernelBenchmark.Result copy = report.kernels().get(0);
        assertEquals("copy", copy.name());
        assertEquals(9, report.kernels().size(), "the copy and eight kernels");
    }

    @Test
    void theSmallListIsTheBundledCnn() {
        assertEquals(105_866, ParameterShapes.total(ParameterShapes.fashionCnn()));
        KernelBenchmark.Report report = new KernelBenchmark(new ScalarKernels(), new long[] {17}, 1).run(null);
        assertNotNull(report.smallList());
        assertEquals(8, report.smallList().tensors());
        assertEquals(8, report.smallList().kernels().size());
        assertNull(report.smallList().emptyLaunchMicroseconds());
    }

    /** Both per-sample products kernels: traffic and arithmetic counted from the shape, against the copy. */
    @Test
    void perSampleProductsReportTrafficAgainstTheCopyAndTheirArithmeticRate() {
        // 5 x 6 x 6 in, 7 out, 3x3 window, stride 1, padding 1: 7 rows, 45 columns, 36 positions
        List<KernelBenchmark.ProductsShape> shapes = List.of(new KernelBenchmark.ProductsShape("odd", 5, 6, 7, 3, 1, 1));
        KernelBenchmark.Report report = new KernelBenchmark(new ScalarKernels(), new long[] {4097}, new long[0], 1, shapes, 3).run(null);
        assertEquals(List.of("unfold", "direct"), report.perSampleProducts().stream().map(KernelBenchmark.ProductsResult::kernel).toList());
        double[] floats = {3.0 * (7 + 45) * 36 + 2.0 * 7 * 45, 3.0 * 7 * 36 + 3.0 * 5 * 36 + 2.0 * 7 * 45};
        for (int i = 0; i < 2; i++) {
            KernelBenchmark.ProductsResult r = report.perSampleProducts().get(i);
            assertEquals(3, r.samples());
            assertEquals(4.0 * floats[i], r.gbps() * r.ms() * 1e6, 1e-6 * 4.0 * floats[i], r.kernel());
            assertEquals(2.0 * 3 * 7 * 45 * 36, r.gflops() * r.ms() * 1e6, 1e-3, r.kernel());
            assertEquals(r.gbps() / r.copyGbps(), r.ratioToCopy(), 1e-12);
            assertTrue(r.copyGbps() > 0 && Double.isFinite(r.copyGbps()), "the copy is timed beside the kernel: " + r.copyGbps());
        }
    }
}
