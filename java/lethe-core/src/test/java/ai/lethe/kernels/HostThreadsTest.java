package ai.lethe.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** A worker's share of the host threads: declared per thread, restored after, at least one. */
class HostThreadsTest {

    @Test
    void aWorkerGetsItsShareOnItsOwnThreadOnly() throws InterruptedException {
        assertEquals(8, HostThreads.share(8), "no worker declared: all of them");
        HostThreads.runAsOneOf(2, () -> {
            assertEquals(4, HostThreads.share(8));
            assertEquals(1, HostThreads.share(1), "never below one");
            HostThreads.runAsOneOf(8, () -> assertEquals(1, HostThreads.share(3)));
            assertEquals(4, HostThreads.share(8), "the outer declaration is back");
            int[] elsewhere = new int[1];
            Thread t = new Thread(() -> elsewhere[0] = HostThreads.share(8));
            t.start();
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            assertEquals(8, elsewhere[0], "another thread is not a worker");
        });
        assertEquals(8, HostThreads.share(8), "cleared after the body");
        assertThrows(IllegalStateException.class, () -> HostThreads.runAsOneOf(2, () -> {
            throw new IllegalStateException("failed");
        }));
        assertEquals(8, HostThreads.share(8), "cleared after a failure too");
    }
}
