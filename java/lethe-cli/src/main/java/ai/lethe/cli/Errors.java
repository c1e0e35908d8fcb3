package ai.lethe.cli;

/** Turns any failure into the one line the user sees. */
final class Errors {

    private Errors() {
    }

    static String message(Throwable t) {
        Throwable root = t;
        // Wrappers that add nothing for the user: report what they wrap.
        while ((root instanceof java.util.concurrent.ExecutionException
                || root instanceof java.util.concurrent.CompletionException
                || root instanceof java.io.UncheckedIOException
                || (root instanceof RuntimeException && root.getClass() == RuntimeException.class && root.getMessage() == null))
                && root.getCause() != null) {
            root = root.getCause();
        }
        String m = root.getMessage();
        if (m == null || m.isBlank()) {
            m = root.getClass().getSimpleName();
        } else if (root instanceof java.nio.file.NoSuchFileException) {
            m = "no such file: " + m;
        } else if (root instanceof java.nio.file.AccessDeniedException) {
            m = "permission denied: " + m;
        } else if (root instanceof OutOfMemoryError) {
            m = "out of memory (" + m + "); raise the heap with LETHE_JAVA_OPTS=-Xmx...";
        }
        return m.replace('\n', ' ').strip();
    }
}
