package ai.lethe.model;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicInteger;

import org.bytedeco.pytorch.Tensor;

/**
 * The worker threads of {@link PerSamplePath#THREADED}: fresh daemon threads for each batch, gone when it is done.
 * Not a pool, on purpose: every Java thread that runs libtorch gets an OpenMP team of its own, and while more
 * OpenMP threads exist than cores libgomp stops spinning between parallel regions. Kept alive, a pool's threads
 * left every later libtorch pass of the process 20-35% slower (batch passes of the cnn on the 2-core box; CPU use
 * fell from 2.0 to 1.45 cores) until they exited. A thread costs well under a millisecond to start; a batch of
 * single-sample passes takes tens.
 */
final class PerSampleThreads {

    private static final AtomicInteger IDS = new AtomicInteger();

    private PerSampleThreads() {
    }

    /** Runs {@code work} on a new daemon thread that ends with it. */
    static Future<Tensor[]> start(Callable<Tensor[]> work) {
        FutureTask<Tensor[]> task = new FutureTask<>(work);
        Thread t = new Thread(task, "lethe-per-sample-" + IDS.incrementAndGet());
        t.setDaemon(true);
        t.start();
        return task;
    }

    /** Every part's result, in order; waits for all parts, frees what finished parts made when one failed. */
    static List<Tensor[]> joinAll(List<Future<Tensor[]>> parts) {
        List<Tensor[]> out = new ArrayList<>();
        RuntimeException failure = null;
        for (Future<Tensor[]> part : parts) {
            try {
                out.add(part.get());
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (failure == null) {
                    failure = cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) {
                    failure = new IllegalStateException("interrupted while waiting for per-sample gradients", e);
                }
            }
        }
        if (failure != null) {
            for (Tensor[] done : out) {
                for (Tensor t : done) {
                    t.close();
                }
            }
            throw failure;
        }
        return out;
    }
}
