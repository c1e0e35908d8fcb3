package ai.lethe.model;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import org.bytedeco.pytorch.Tensor;

/** The worker threads of {@link PerSamplePath#THREADED} (daemons, shared by every model). */
final class PerSampleThreads {

    private static final AtomicInteger IDS = new AtomicInteger();

    static final ExecutorService POOL = Executors.newFixedThreadPool(LibtorchModel.PER_SAMPLE_THREADS, r -> {
        Thread t = new Thread(r, "lethe-per-sample-" + IDS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    private PerSampleThreads() {
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
