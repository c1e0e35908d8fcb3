package ai.lethe.server;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Set;

import io.javalin.http.Context;

/**
 * Checks {@code Authorization: Bearer TOKEN} on every request except the open paths (health and the API
 * description). Tokens are compared as SHA-256 digests with a constant-time comparison, so neither the
 * length nor a prefix of the token leaks through timing.
 */
final class BearerAuth {

    private final byte[] expected;
    private final Set<String> openPaths;

    /** {@code token} null: every request is allowed (the server then listens on loopback only). */
    BearerAuth(String token, Set<String> openPaths) {
        this.expected = token == null ? null : digest(token);
        this.openPaths = openPaths;
    }

    boolean required() {
        return expected != null;
    }

    void check(Context ctx) {
        if (expected == null || openPaths.contains(ctx.path())) {
            return;
        }
        String header = ctx.header("Authorization");
        if (header == null || header.isBlank()) {
            throw new ApiException(401, "missing bearer token: send the header 'Authorization: Bearer <token>'");
        }
        if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new ApiException(401, "the Authorization header must be 'Bearer <token>'");
        }
        if (!MessageDigest.isEqual(expected, digest(header.substring(7).strip()))) {
            throw new ApiException(401, "invalid bearer token");
        }
    }

    private static byte[] digest(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
