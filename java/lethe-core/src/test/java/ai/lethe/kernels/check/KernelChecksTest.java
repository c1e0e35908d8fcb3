package ai.lethe.kernels.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import ai.lethe.kernels.HostTensors;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.ScalarKernels;
import ai.lethe.kernels.TensorList;

/** The checks catch a back end that is off by one ulp or one count: they are not checks that cannot fail. */
class KernelChecksTest {

    private final ScalarKernels reference = new ScalarKernels();

    @Test
    void oneUlpInOneElementFailsTheAccumulateChecksOnly() {
        Kernels broken = brokenAfter("accumulateSquare", acc -> {
            float[][] a = ((HostTensors) acc).arrays();
            for (int t = a.length - 1; t >= 0; t--) {
                if (a[t].length > 0) {
                    float v = a[t][a[t].length - 1];
                    a[t][a[t].length - 1] = Float.isFinite(v) ? Math.nextUp(v) : 0f; // NaN and inf have no next value
                    return;
                }
            }
        });
        KernelChecks.Check square = find("accumulateSquare n=7");
        KernelMismatch e = assertThrows(KernelMismatch.class, () -> square.run(broken, reference));
        assertTrue(e.getMessage().contains("accumulateSquare tensor 0[6]"), e.getMessage());
        find("accumulateAbs n=7").run(broken, reference);
        find("ssdDampen n=4097").run(broken, reference);
    }

    @Test
    void aWrongCountFailsTheSsdCheck() {
        Kernels plain = reference;
        Kernels broken = (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class}, (p, m, args) -> {
            Object r = invoke(plain, m, args);
            return m.getName().equals("ssdDampen") ? (Long) r + 1 : r;
        });
        KernelMismatch e = assertThrows(KernelMismatch.class, () -> find("ssdDampen n=65").run(broken, reference));
        assertTrue(e.getMessage().contains("selected count"), e.getMessage());
    }

    @Test
    void theReferencePassesEveryCheckAndSelftestAddsResNet18() {
        List<KernelChecks.Check> quick = KernelChecks.all(false);
        for (KernelChecks.Check c : quick) {
            if (!c.name().contains("1000003")) { // the large single tensor is slow on the reference itself
                c.run(reference, reference);
            }
        }
        assertEquals(quick.size() + 10, KernelChecks.all(true).size(), "ResNet-18's list adds each of the ten per-shape checks once more");
        assertTrue(KernelChecks.all(true).stream().anyMatch(c -> c.name().startsWith("ssdDampen resnet-18")));
    }

    /**
     * The fp32 rule the CUDA kernel followed before (d = logf fF − logf fR, expf): what failed five checks on the
     * H200. The rule check catches it on the CPU, where no GPU is needed to see it.
     */
    @Test
    void theFp32LogRatioRuleFailsTheDoubleRuleCheck() {
        Kernels plain = reference;
        Kernels fp32Rule = (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class}, (p, m, args) -> {
            if (!m.getName().equals("ratioShift")) {
                return invoke(plain, m, args);
            }
            float[][] w = ((HostTensors) args[0]).arrays();
            float[][] fF = ((HostTensors) args[1]).arrays();
            float[][] fR = ((HostTensors) args[2]).arrays();
            float sign = (Float) args[3];
            float lambda1 = (Float) args[4];
            float lambda2 = (Float) args[5];
            float[] alphas = new float[w.length];
            for (int t = 0; t < w.length; t++) {
                float maxEta = 0f;
                for (int j = 0; j < w[t].length; j++) {
                    maxEta = Math.max(maxEta, fp32Eta(fF[t][j], fR[t][j]));
                }
                alphas[t] = Math.min(lambda1, lambda2 / maxEta);
                for (int j = 0; j < w[t].length; j++) {
                    w[t][j] += sign * alphas[t] * fp32Eta(fF[t][j], fR[t][j]);
                }
            }
            return alphas;
        });
        KernelMismatch e = assertThrows(KernelMismatch.class,
                () -> find("ratioShift eta is the correctly rounded quotient").run(fp32Rule, reference));
        assertTrue(e.getMessage().contains("eta of fF"), e.getMessage());
        find("ratioShift eta is the correctly rounded quotient").run(reference, reference);
    }

    private static float fp32Eta(float fF, float fR) {
        return (float) Math.exp((float) Math.log(fF) - (float) Math.log(fR));
    }

    private static KernelChecks.Check find(String name) {
        return KernelChecks.all(false).stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no check " + name));
    }

    /** The reference, with {@code spoil} applied to the first argument after every call of {@code method}. */
    private Kernels brokenAfter(String method, Consumer<TensorList> spoil) {
        Kernels plain = reference;
        return (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class}, (p, m, args) -> {
            Object r = invoke(plain, m, args);
            if (m.getName().equals(method)) {
                spoil.accept((TensorList) args[0]);
            }
            return r;
        });
    }

    private static Object invoke(Kernels target, java.lang.reflect.Method m, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
