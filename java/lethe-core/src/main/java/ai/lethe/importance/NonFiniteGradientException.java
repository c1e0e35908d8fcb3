package ai.lethe.importance;

/** A gradient held NaN or ±Inf, so no importance computed from it could be trusted. */
public final class NonFiniteGradientException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public NonFiniteGradientException(String message) {
        super(message);
    }
}
