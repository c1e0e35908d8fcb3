package ai.lethe.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.lethe.kernels.ScalarKernels;
import ai.lethe.kernels.VectorKernels;
import ai.lethe.model.Trainable;
import ai.lethe.profile.Profiler;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SgdTest {

    /** Two tensors with a fixed gradient; reading the gradient opens a span so a profile can see where it ran. */
    private static final class Fixed implements Trainable {
        final float[][] values = {{1f, -2f, 3f}, {0.5f}};
        final float[][] gradient = {{0.1f, 0.2f, -0.3f}, {4f}};

        @Override
        public long[] sizes() {
            return new long[] {3, 1};
        }

        @Override
        public void read(float[][] dst) {
            for (int i = 0; i < dst.length; i++) {
                System.arraycopy(values[i], 0, dst[i], 0, dst[i].length);
            }
        }

        @Override
        public void write(float[][] src) {
            for (int i = 0; i < src.length; i++) {
                System.arraycopy(src[i], 0, values[i], 0, src[i].length);
            }
        }

        @Override
        public void gradients(float[][] dst) {
            try (Profiler.Span s = Profiler.span("read-gradient")) {
                for (int i = 0; i < dst.length; i++) {
                    System.arraycopy(gradient[i], 0, dst[i], 0, dst[i].length);
                }
            }
        }
    }

    @AfterEach
    void stop() {
        Profiler.stop();
    }

    @Test
    void aPlainStepMovesAgainstTheGradientAndWritesBack() {
        Fixed t = new Fixed();
        try (Sgd sgd = new Sgd(t, new ScalarKernels(), 0f, 0f, null)) {
            sgd.step(0.5f);
            assertEquals(1, sgd.steps());
        }
        assertArrayEquals(new float[] {1f - 0.05f, -2f - 0.1f, 3f + 0.15f}, t.values[0], 1e-6f);
        assertArrayEquals(new float[] {0.5f - 2f}, t.values[1], 1e-6f);
    }

    @Test
    void aCombinedStepAppliesTheWeightedSumAndStartsAgainFromZero() {
        Fixed t = new Fixed();
        try (Sgd sgd = new Sgd(t, new VectorKernels(), 0f, 0f, null)) {
            sgd.addToCombined(1f);
            sgd.addToCombined(-0.25f); // the same gradient again: 0.75 of it in all
            sgd.stepCombined(1f);
            assertArrayEquals(new float[] {1f - 0.075f, -2f - 0.15f, 3f + 0.225f}, t.values[0], 1e-6f);
            sgd.addToCombined(1f);
            sgd.stepCombined(1f);
            assertArrayEquals(new float[] {1f - 0.175f, -2f - 0.35f, 3f + 0.525f}, t.values[0], 1e-6f, "not 1.75×: cleared");
            assertEquals(2, sgd.steps());
        }
    }

    @Test
    void theGradientsReadBackIsPartOfTheUpdatePhase() {
        Fixed t = new Fixed();
        Profiler.start(null);
        try (Sgd sgd = new Sgd(t, new ScalarKernels(), 0.9f, 0f, null)) {
            sgd.step(0.1f);
            sgd.addToCombined(1f);
            sgd.stepCombined(0.1f);
        }
        List<Profiler.Event> events = Profiler.stop().events();
        List<Profiler.Event> updates = events.stream().filter(e -> e.name().equals("update")).toList();
        List<Profiler.Event> reads = events.stream().filter(e -> e.name().equals("read-gradient")).toList();
        assertEquals(2, reads.size());
        for (Profiler.Event read : reads) {
            assertTrue(updates.stream().anyMatch(u -> u.startNanos() <= read.startNanos()
                    && read.startNanos() + read.durationNanos() <= u.startNanos() + u.durationNanos()),
                    "a gradient read outside every update span: " + events);
        }
    }
}
