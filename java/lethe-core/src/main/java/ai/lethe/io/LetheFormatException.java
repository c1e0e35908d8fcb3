package ai.lethe.io;

import java.io.IOException;

/** A file exists but is not what it claims to be: truncated, corrupt, wrong format or wrong shape. */
public final class LetheFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    public LetheFormatException(String message) {
        super(message);
    }

    public LetheFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
