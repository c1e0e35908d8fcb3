package ai.lethe.io;

import java.io.IOException;

/**
 * A file exists but is not what it claims to be: truncated, corrupt, wrong format or wrong shape.
 *
 * <p>The message is always one line: it often quotes what the file holds (a header, a metadata value, a tensor name),
 * and a file can put a line break or a terminal escape there. Callers quote such text with {@link #printable}; the
 * constructor applies the same rule to the whole message as a last guard.
 */
public final class LetheFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /** Long enough for a path and a quoted header, short enough for one line of a log. */
    static final int MAX_MESSAGE_CHARS = 1000;

    public LetheFormatException(String message) {
        super(oneLine(message, MAX_MESSAGE_CHARS));
    }

    public LetheFormatException(String message, Throwable cause) {
        super(oneLine(message, MAX_MESSAGE_CHARS), cause);
    }

    /**
     * {@code message} as this class makes its own: one line (control characters shown as '?'), at most 1,000
     * characters; for any error message that quotes outside text (a request's path, say).
     */
    public static String oneLineMessage(String message) {
        return oneLine(message, MAX_MESSAGE_CHARS);
    }

    /**
     * Text read from a file as an error message can quote it: one line, control characters shown as '?', at most 200
     * characters, {@code null} shown as "(none)".
     */
    public static String printable(String fromFile) {
        return fromFile == null ? "(none)" : oneLine(fromFile.strip(), 200);
    }

    private static String oneLine(String s, int max) {
        if (s == null) {
            return null;
        }
        String t = s.replaceAll("\\p{Cntrl}", "?");
        return t.length() > max ? t.substring(0, max) + "…" : t;
    }
}
