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
 *
 * <p>Without a token the server listens on loopback, and what must be kept out are web pages the user
 * visits: their requests carry a foreign {@code Origin}, or (after DNS rebinding) a foreign {@code Host}.
 * Both are refused. HEAD is refused everywhere (405): answering it without running the GET logic would
 * say 200 for things that do not exist.
 */
final class BearerAuth {

    private final byte[] expected;
    private final Set<String> openPaths;
    private final String bind;

    /** {@code token} null: every local request is allowed (the server then listens on loopback only). */
    BearerAuth(String token, Set<String> openPaths, String bind) {
        this.expected = token == null ? null : digest(token);
        this.openPaths = openPaths;
        this.bind = bind == null ? "" : bind.toLowerCase(java.util.Locale.ROOT);
    }

    boolean required() {
        return expected != null;
    }

    void check(Context ctx) {
        if (expected == null) {
            requireLocal(ctx);
        } else if (!openPaths.contains(ctx.path())) {
            requireToken(ctx);
        }
        if (ctx.method() == io.javalin.http.HandlerType.HEAD) {
            throw new ApiException(405, "HEAD is not supported; use GET");
        }
    }

    private void requireToken(Context ctx) {
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

    private void requireLocal(Context ctx) {
        String host = hostOf(ctx.header("Host"));
        if (host != null && !local(host)) {
            throw ApiException.forbidden("this server has no token and answers only requests addressed to localhost, not to '"
                    + host + "'");
        }
        String origin = ctx.header("Origin");
        if (origin != null && !origin.equals("null")) {
            String originHost;
            try {
                originHost = java.net.URI.create(origin.strip()).getHost();
            } catch (IllegalArgumentException e) {
                originHost = null;
            }
            if (originHost == null || !local(originHost.toLowerCase(java.util.Locale.ROOT))) {
                throw ApiException.forbidden("this server has no token and refuses requests from web pages (Origin '" + origin + "')");
            }
        }
    }

    private boolean local(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return h.equals("localhost") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1") || h.startsWith("127.") || h.equals(bind);
    }

    /** The host part of a Host header: {@code name}, {@code name:port}, {@code [v6]} or {@code [v6]:port}. */
    static String hostOf(String header) {
        if (header == null || header.isBlank()) {
            return null;
        }
        String h = header.strip().toLowerCase(java.util.Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? h : h.substring(0, end + 1);
        }
        int colon = h.indexOf(':');
        return colon < 0 ? h : h.substring(0, colon);
    }

    private static byte[] digest(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
