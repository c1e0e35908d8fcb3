package ai.lethe.server;

/**
 * A request that cannot be served, with the HTTP status and the one-line message the client gets. Messages quote
 * what the request said (a path, a field, a value), which can hold a line break: the constructor makes them one line.
 */
final class ApiException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int status;

    ApiException(int status, String message) {
        super(ai.lethe.io.LetheFormatException.oneLineMessage(message));
        this.status = status;
    }

    int status() {
        return status;
    }

    static ApiException badRequest(String message) {
        return new ApiException(400, message);
    }

    static ApiException forbidden(String message) {
        return new ApiException(403, message);
    }

    static ApiException notFound(String message) {
        return new ApiException(404, message);
    }

    static ApiException conflict(String message) {
        return new ApiException(409, message);
    }

    static ApiException tooLarge(String message) {
        return new ApiException(413, message);
    }

    static ApiException unprocessable(String message) {
        return new ApiException(422, message);
    }
}
