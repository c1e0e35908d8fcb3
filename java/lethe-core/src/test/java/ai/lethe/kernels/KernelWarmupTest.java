package ai.lethe.kernels;

import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The warm-up swallows its own failures (it is only an optimisation), so this test is where one shows. */
class KernelWarmupTest {

    @Test
    void theWarmUpRunsEveryKernelItCallsToTheEnd() throws InterruptedException {
        KernelWarmup.start();
        KernelWarmup.await();
        assertNull(KernelWarmup.failure(), () -> "the warm-up stopped: " + KernelWarmup.failure());
    }
}
