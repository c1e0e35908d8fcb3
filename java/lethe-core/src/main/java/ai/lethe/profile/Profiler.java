package ai.lethe.profile;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Phase timing for {@code lethe profile}. Code marks its phases with {@code try (Span s = Profiler.span("forward"))};
 * while no recording is active that is one volatile read and a shared no-op object, so the instrumentation stays
 * in the hot paths for good. A recording collects every span of every thread (with the thread's name, for the
 * Chrome trace), and forwards span boundaries to a range listener (NVTX on CUDA) when one is set.
 */
public final class Profiler {

    /** One timed interval on one thread. */
    public record Event(String name, String category, long threadId, long startNanos, long durationNanos, Map<String, Object> args) {
    }

    /** Something that mirrors spans elsewhere, for example as NVTX ranges for Nsight Systems. */
    public interface RangeListener {
        void push(String name);

        void pop();
    }

    /** An open interval; closing it records it. */
    public interface Span extends AutoCloseable {
        @Override
        void close();
    }

    private static final Span NOOP = () -> { };
    private static volatile Recording active;

    private Profiler() {
    }

    /** Opens a phase span on this thread (a no-op unless a recording is active). */
    public static Span span(String name) {
        Recording r = active;
        return r == null ? NOOP : r.open(name, "phase", null);
    }

    /** Opens a span with a category and arguments (kernel calls). */
    public static Span span(String name, String category, Map<String, Object> args) {
        Recording r = active;
        return r == null ? NOOP : r.open(name, category, args);
    }

    public static boolean recording() {
        return active != null;
    }

    /** Starts recording (one recording per process at a time); {@code listener} may be null. */
    public static synchronized Recording start(RangeListener listener) {
        if (active != null) {
            throw new IllegalStateException("a profile is already being recorded");
        }
        active = new Recording(listener);
        return active;
    }

    /** Stops recording and returns what was recorded. */
    public static synchronized Recording stop() {
        Recording r = active;
        active = null;
        if (r != null) {
            r.endNanos = System.nanoTime();
        }
        return r;
    }

    /** The events of one recording. */
    public static final class Recording {
        private final RangeListener listener;
        private final List<Event> events = Collections.synchronizedList(new ArrayList<>());
        private final Map<Long, String> threads = new ConcurrentHashMap<>();
        private final long startNanos = System.nanoTime();
        private volatile long endNanos;

        private Recording(RangeListener listener) {
            this.listener = listener;
        }

        Span open(String name, String category, Map<String, Object> args) {
            Thread t = Thread.currentThread();
            threads.putIfAbsent(t.getId(), t.getName());
            if (listener != null) {
                listener.push(name);
            }
            long start = System.nanoTime();
            AtomicBoolean closed = new AtomicBoolean();
            return () -> {
                long end = System.nanoTime();
                if (!closed.compareAndSet(false, true)) {
                    return; // a second close records nothing
                }
                // Ranges are per-thread stacks (NVTX): only the opening thread may pop. A span closed elsewhere
                // still records its interval, on the opening thread's track.
                if (listener != null && Thread.currentThread() == t) {
                    listener.pop();
                }
                events.add(new Event(name, category, t.getId(), start, end - start, args));
            };
        }

        public List<Event> events() {
            synchronized (events) {
                return new ArrayList<>(events);
            }
        }

        public Map<Long, String> threads() {
            return Map.copyOf(threads);
        }

        public long startNanos() {
            return startNanos;
        }

        public long endNanos() {
            return endNanos == 0 ? System.nanoTime() : endNanos;
        }
    }
}
