package ai.lethe;

/**
 * A setting the caller chose is invalid (an option out of range, an unknown name, a combination that does not
 * apply). Separate from other argument errors so that the CLI can answer it as a usage error (exit 2) and the
 * service as a bad request, while errors found in files and data stay ordinary failures.
 */
public class InvalidSettingException extends IllegalArgumentException {

    public InvalidSettingException(String message) {
        super(message);
    }
}
