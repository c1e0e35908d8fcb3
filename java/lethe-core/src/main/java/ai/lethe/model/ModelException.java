package ai.lethe.model;

/** The model cannot do what was asked: it rejects the input shape, returns no logits, has no gradients, ... */
public final class ModelException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ModelException(String message) {
        super(message);
    }

    public ModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
