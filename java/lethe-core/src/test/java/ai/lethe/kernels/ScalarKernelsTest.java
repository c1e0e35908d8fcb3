package ai.lethe.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import ai.lethe.kernels.check.KernelRules;

/** The reference itself against the spec's rules (the other back ends are tested against it). */
class ScalarKernelsTest {

    private final ScalarKernels kernels = new ScalarKernels();

    @Test
    void ssdDampenFollowsTheRule() {
        KernelRules.ssdDampenFollowsTheRule(kernels);
    }

    @Test
    void ratioShiftSanitisesLikeTheReference() {
        KernelRules.ratioShiftSanitisesLikeTheReference(kernels);
    }

    @Test
    void accumulationIsTheSpecifiedSum() {
        float[] acc = {1f, 0f, 2f};
        float[] g = {-2f, 3f, 0.5f};
        kernels.accumulateSquare(HostTensors.wrap(acc), HostTensors.wrap(g), 0.5f);
        assertEquals(1f + 0.5f * 4f, acc[0]);
        assertEquals(0.5f * 9f, acc[1]);
        assertEquals(2f + 0.5f * 0.25f, acc[2]);
        kernels.accumulateAbs(HostTensors.wrap(acc), HostTensors.wrap(g), 2f);
        assertEquals(3f + 4f, acc[0]);
    }

    @Test
    void sgdStepIsPyTorchsRule() {
        float[] theta = {1f, 2f};
        float[] v = {0f, 0f};
        float[] g = {0.5f, -1f};
        float[] mask = {1f, 0f};
        kernels.sgdStep(HostTensors.wrap(theta), HostTensors.wrap(v), HostTensors.wrap(g), HostTensors.wrap(mask), 0.1f, 0.9f, 0.01f);
        float d = 0.5f + 0.01f * 1f;
        assertEquals(d, v[0]);
        assertEquals(1f - 0.1f * d, theta[0]);
        assertEquals(2f, theta[1], "masked out: unchanged");
        assertEquals(0f, v[1]);
        kernels.sgdStep(HostTensors.wrap(theta), HostTensors.wrap(v), HostTensors.wrap(g), null, 0.1f, 0.9f, 0f);
        assertEquals(0.9f * d + 0.5f, v[0]);
    }

    @Test
    void ratioKeysPreserveOrder() {
        float[] values = {Float.NEGATIVE_INFINITY, -3f, -Float.MIN_VALUE, -0f, 0f, Float.MIN_VALUE, 1f, 2.5e30f,
                Float.POSITIVE_INFINITY};
        for (int i = 1; i < values.length; i++) {
            int a = RatioKeys.key(values[i - 1]);
            int b = RatioKeys.key(values[i]);
            assertTrue(Integer.compareUnsigned(a, b) < 0, values[i - 1] + " orders below " + values[i]);
            assertEquals(Float.floatToRawIntBits(values[i]), Float.floatToRawIntBits(RatioKeys.value(b)));
        }
    }

    @Test
    void fractionOutsideZeroToOneIsRejected() {
        HostTensors a = HostTensors.wrap(new float[] {1f});
        assertThrows(IllegalArgumentException.class, () -> kernels.ratioThresholdForFraction(a, a, 0f, -0.1));
        assertThrows(IllegalArgumentException.class, () -> kernels.ratioThresholdForFraction(a, a, 0f, Double.NaN));
    }

    @Test
    void foreignListsAreRejected() {
        try (VectorKernels other = new VectorKernels(1)) {
            TensorList fake = new TensorList() {
                public int count() {
                    return 1;
                }

                public long size(int i) {
                    return 1;
                }

                public void close() {
                }
            };
            assertThrows(IllegalArgumentException.class, () -> kernels.fill(fake, 1f));
            assertThrows(IllegalArgumentException.class, () -> other.fill(fake, 1f));
        }
    }
}
