package ai.lethe.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import ai.lethe.kernels.cuda.CudaKernels;

/**
 * The argument checks live in one layer: every kernel that takes a tensor list is final in {@link CheckedKernels},
 * every back end extends it, and on each CPU back end every kernel refuses lists of other sizes and lists of
 * another back end with an IllegalArgumentException that names the kernel.
 */
class CheckedKernelsTest {

    @Test
    void everyKernelIsCheckedInOnePlaceThatNoBackEndCanBypass() throws NoSuchMethodException {
        int kernels = 0;
        for (Method m : Kernels.class.getMethods()) {
            boolean takesLists = Arrays.asList(m.getParameterTypes()).contains(TensorList.class);
            if (!takesLists || m.isDefault()) {
                continue;
            }
            Method checked = CheckedKernels.class.getMethod(m.getName(), m.getParameterTypes());
            assertEquals(CheckedKernels.class, checked.getDeclaringClass(), m.getName());
            assertTrue(Modifier.isFinal(checked.getModifiers()), m.getName() + " is final in the checking layer");
            kernels++;
        }
        assertEquals(17, kernels, "upload, download and the fifteen kernels");
        for (Class<?> backEnd : List.of(ScalarKernels.class, VectorKernels.class, VectorApiKernels.class, CudaKernels.class)) {
            assertTrue(CheckedKernels.class.isAssignableFrom(backEnd), backEnd.getSimpleName());
        }
    }

    @Test
    void theCpuBackEndsRefuseMismatchedAndForeignListsNamingTheKernel() {
        try (ScalarKernels scalar = new ScalarKernels(); VectorKernels vector = new VectorKernels(1)) {
            for (Kernels k : List.of(scalar, vector)) {
                refusesEverything(k);
            }
        }
    }

    private static void refusesEverything(Kernels k) {
        TensorList foreign = new TensorList() {
            public int count() {
                return 2;
            }

            public long size(int i) {
                return 3;
            }

            public void close() {
            }
        };
        try (TensorList a = k.allocate(3, 3); TensorList b = k.allocate(3, 4); TensorList g = k.allocate(3);
             TensorList u = k.allocate(1)) {
            Map<String, Consumer<TensorList>> calls = new LinkedHashMap<>();
            calls.put("copy", x -> k.copy(a, x));
            calls.put("fill", x -> k.fill(x, 1f));
            calls.put("scale", x -> k.scale(x, 2f));
            calls.put("scaleAdd", x -> k.scaleAdd(a, x, 1f));
            calls.put("divide", x -> k.divide(a, x, 3f));
            calls.put("sgdStep", x -> k.sgdStep(a, a, a, x, 0.1f, 0.9f, 0f));
            calls.put("accumulateSquare", x -> k.accumulateSquare(a, x, 1f));
            calls.put("accumulateAbs", x -> k.accumulateAbs(a, x, 1f));
            calls.put("ssdDampen", x -> k.ssdDampen(a, a, x, 1f, 1f));
            calls.put("ratioReset", x -> k.ratioReset(a, a, a, x, 0f, 1f));
            calls.put("ratioHistogram", x -> k.ratioHistogram(a, x, 0f, 21, 11, 0, 0));
            calls.put("ratioShift", x -> k.ratioShift(a, x, a, 1f, 1f, 1f));
            calls.put("stats", x -> k.stats(x));
            calls.put("accumulatePerSampleProducts", x -> k.accumulatePerSampleProducts(x, g, u, 1, 3, 1, 1, false));
            calls.put("accumulateConvPerSampleProducts", x -> k.accumulateConvPerSampleProducts(x, g, u,
                    new ConvGeometry(1, 1, 1, 1, 3, 1, 1, 1, 1, 0), false)); // weight 3x1x1x1, g 1x1x1x3, a 1x1x1x1
            calls.put("upload", x -> k.upload(new float[][] {new float[3], new float[3]}, x));
            calls.put("download", x -> k.download(x, new float[][] {new float[3], new float[3]}));
            calls.forEach((kernel, call) -> {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> call.accept(foreign),
                        k.name() + " " + kernel + " with a foreign list");
                assertTrue(e.getMessage().startsWith(kernel + ":"), e.getMessage());
                if (!kernel.equals("fill") && !kernel.equals("scale") && !kernel.equals("stats")) {
                    e = assertThrows(IllegalArgumentException.class, () -> call.accept(b), k.name() + " " + kernel + " with other sizes");
                    assertTrue(e.getMessage().startsWith(kernel + ":"), e.getMessage());
                }
            });
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k.ratioHistogram(a, a, 0f, 28, 11, 0, 0));
            assertTrue(e.getMessage().contains("32-bit key"), e.getMessage());
        }
    }
}
