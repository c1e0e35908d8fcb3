package ai.lethe.kernels;

/**
 * How many importance workers run side by side on the host, as the thread running one of them declares it: host
 * kernels called from such a thread use their share of the cores, not all of them. Set by the caller, not counted
 * at run time, so that how a batch is cut up (and so how its sums are rounded) depends on the worker count only.
 */
public final class HostThreads {

    private static final ThreadLocal<Integer> SIDE_BY_SIDE = new ThreadLocal<>();

    private HostThreads() {
    }

    /** Runs {@code body} on this thread as one of {@code workers} workers side by side. */
    public static void runAsOneOf(int workers, Runnable body) {
        Integer before = SIDE_BY_SIDE.get();
        SIDE_BY_SIDE.set(Math.max(1, workers));
        try {
            body.run();
        } finally {
            if (before == null) {
                SIDE_BY_SIDE.remove();
            } else {
                SIDE_BY_SIDE.set(before);
            }
        }
    }

    /** This thread's share of {@code threads}: all of them unless it runs as one of several workers (at least 1). */
    public static int share(int threads) {
        Integer workers = SIDE_BY_SIDE.get();
        return workers == null ? threads : Math.max(1, threads / workers);
    }
}
