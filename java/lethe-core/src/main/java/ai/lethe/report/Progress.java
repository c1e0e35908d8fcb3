package ai.lethe.report;

/** Receives progress of long work (importance passes, evaluation, training); implementations print or ignore it. */
public interface Progress {

    /** Ignores everything. */
    Progress NONE = new Progress() {
        @Override
        public void start(String task, long total, String unit) {
        }

        @Override
        public void advance(long done) {
        }

        @Override
        public void finish() {
        }
    };

    /** A new task of {@code total} units (0 if unknown), for example ("importance over Df", 4, "batches"). */
    void start(String task, long total, String unit);

    /** {@code done} more units finished. */
    void advance(long done);

    /** The task is complete. */
    void finish();

    /** A one-line note for the user (stderr in the CLI). */
    default void note(String message) {
    }
}
