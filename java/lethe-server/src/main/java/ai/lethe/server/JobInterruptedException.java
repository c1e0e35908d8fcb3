package ai.lethe.server;

/**
 * Thrown out of a running job's progress callbacks to stop it between two batches: the core then unwinds
 * (closing its streams) without changing the model, and the worker records why it stopped.
 */
final class JobInterruptedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why a job is stopped. */
    enum Why {
        /** A client cancelled it: it ends as cancelled. */
        CANCELLED,
        /** The server is shutting down: it goes back to the queue for the next start. */
        SHUTDOWN
    }

    private final Why why;

    JobInterruptedException(Why why) {
        super(why == Why.CANCELLED ? "cancelled" : "server shutting down", null, false, false);
        this.why = why;
    }

    Why why() {
        return why;
    }
}
