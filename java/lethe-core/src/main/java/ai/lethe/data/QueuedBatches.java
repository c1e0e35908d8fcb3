package ai.lethe.data;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.BlockingQueue;

/**
 * The batches another thread puts into a queue, up to its end marker: how a producer (a batch maker, the dealer of
 * a parallel importance pass) hands batches to the thread that consumes them.
 */
public final class QueuedBatches implements Iterator<Batch> {

    private final BlockingQueue<?> queue;
    private final Object end;
    private Object next;

    /** Iterates over the {@link Batch}es taken from {@code queue} until {@code end} is taken. */
    public QueuedBatches(BlockingQueue<?> queue, Object end) {
        this.queue = queue;
        this.end = end;
    }

    @Override
    public boolean hasNext() {
        if (next == null) {
            try {
                next = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the next batch", e);
            }
        }
        return next != end;
    }

    @Override
    public Batch next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Batch b = (Batch) next;
        next = null;
        return b;
    }
}
