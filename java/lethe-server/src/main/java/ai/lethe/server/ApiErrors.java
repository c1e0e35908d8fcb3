package ai.lethe.server;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.Collection;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import io.javalin.router.EndpointNotFound;

/** Every failure becomes a JSON body {@code {"status", "error", "message"}} with the status that says what went wrong. */
final class ApiErrors {

    private static final Logger LOG = LoggerFactory.getLogger(ApiErrors.class);

    /** The JSON body of every error response. */
    record ErrorBody(int status, String error, String message) {
    }

    /** Core field names that a client of the API writes differently. */
    private static final Map<String, String> CORE_TO_API = Map.of(
            "forget_random", "forget.random",
            "forget_class", "forget.classes",
            "importance_full", "importance");

    /** The most of a refused request's body that is read and discarded so that the client gets the error. */
    private static final long DRAIN_MAX_BYTES = 32L << 20;
    /** The same for a client that has not authenticated, who must not make the server read tens of megabytes. */
    static final long UNAUTHENTICATED_DRAIN_MAX_BYTES = 1L << 20;

    private ApiErrors() {
    }

    /** Maps every exception a handler throws to a JSON error; {@code uploadLimit} is quoted when an upload is too large. */
    static void install(JavalinConfig config, long uploadLimit) {
        config.routes.exception(ApiException.class, (e, ctx) -> respond(ctx, e.status(), e.getMessage()));
        config.routes.exception(JobStore.QueueFullException.class, (e, ctx) -> respond(ctx, 429, e.getMessage()));
        config.routes.exception(HttpResponseException.class, ApiErrors::javalinResponse);
        config.routes.exception(Exception.class, (e, ctx) -> unexpected(e, ctx, uploadLimit));
    }

    static void respond(Context ctx, int status, String message) {
        respond(ctx, status, message, false);
    }

    /** {@code close}: end the connection after the response, whatever is left of the request. */
    private static void respond(Context ctx, int status, String message, boolean close) {
        HttpStatus s = HttpStatus.forStatus(status);
        if (status == 401) {
            ctx.header("WWW-Authenticate", "Bearer realm=\"lethe\"");
        } else if (status == 429) {
            ctx.header("Retry-After", "10");
        }
        // A client without a valid token gets little of the server's reading: enough for a small JSON body.
        long drainLimit = status == 401 || status == 403 ? UNAUTHENTICATED_DRAIN_MAX_BYTES : DRAIN_MAX_BYTES;
        if (close || !drainBody(ctx, drainLimit)) {
            // The rest of the body stays unread, so the connection cannot carry another request: say so, or a client
            // that reuses it sends its next request into a socket the server is about to close.
            ctx.header("Connection", "close");
        }
        // One line whatever produced it: messages quote requests and files, which can hold line breaks.
        ctx.status(status).contentType("application/json").result(Json.write(new ErrorBody(status, s.getMessage(),
                ai.lethe.io.LetheFormatException.oneLineMessage(message))));
    }

    /**
     * Reads and discards what is left of a request body that the handler refused before reading it, up to
     * {@code limit}: a client still sending (most do not wait for an early response) then reads the error
     * instead of finding its connection reset. Returns false when part of the body is left unread.
     */
    private static boolean drainBody(Context ctx, long limit) {
        long declared = ctx.req().getContentLengthLong();
        boolean chunked = declared < 0 && ctx.header("Transfer-Encoding") != null;
        if (declared == 0 || (declared < 0 && !chunked)) {
            return true;
        }
        if (declared > limit || ctx.header("Expect") != null) {
            return false; // too much to swallow, or a client waiting for 100-continue that need not send it at all
        }
        try {
            jakarta.servlet.ServletInputStream in = ctx.req().getInputStream();
            byte[] buffer = new byte[1 << 16];
            long total = 0;
            for (int n; !in.isFinished() && (n = in.read(buffer)) >= 0; ) {
                total += n;
                if (total > limit) {
                    return false;
                }
            }
            return true;
        } catch (IOException | IllegalStateException e) {
            return false;
        }
    }

    /** Javalin's own refusals (no such route, wrong method, body over the limit), with messages that say so. */
    private static void javalinResponse(HttpResponseException e, Context ctx) {
        String message;
        if (e instanceof EndpointNotFound) {
            message = "no such endpoint: " + ctx.method() + " " + ctx.path() + " (the API is described at /openapi.json)";
        } else if (e.getStatus() == 405) {
            message = "method " + ctx.method() + " is not allowed on " + ctx.path();
        } else if (e.getStatus() == 413) {
            message = "the request body is larger than " + LetheServer.MAX_JSON_BYTES / (1 << 20) + " MiB";
        } else {
            message = e.getMessage();
        }
        respond(ctx, e.getStatus(), message);
    }

    private static void unexpected(Exception e, Context ctx, long uploadLimit) {
        // After a failed multipart parse, what is left of the body is in no known state: the connection cannot be reused.
        String multipart = multipartProblem(e);
        if ("too large".equals(multipart)) {
            respond(ctx, 413, "the upload is larger than the limit of " + LetheServer.mebibytes(uploadLimit), true);
        } else if (multipart != null) {
            respond(ctx, 400, "malformed multipart/form-data body (check the boundary and the part headers)", true);
        } else {
            LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
            respond(ctx, 500, "internal error: " + message(e));
        }
    }

    /**
     * Jetty reports a multipart body over its size limits as a BadMessageException("bad multipart") caused by
     * an IllegalStateException("max file size exceeded" / "max length exceeded"). Returns "too large", another
     * reason for a malformed body, or null when the failure has nothing to do with multipart parsing.
     */
    private static String multipartProblem(Throwable e) {
        boolean badMultipart = false;
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage());
            if (t instanceof IllegalStateException && (m.contains("max file size exceeded") || m.contains("max length exceeded"))) {
                return "too large";
            }
            if (t.getClass().getName().equals("org.eclipse.jetty.http.BadMessageException") && m.contains("multipart")) {
                badMultipart = true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return badMultipart ? "bad multipart" : null;
    }

    /** A 400 for a request body that is not the JSON this endpoint takes, with what exactly is wrong. */
    static ApiException badJson(JsonProcessingException e) {
        if (e instanceof UnrecognizedPropertyException u) {
            Collection<Object> known = u.getKnownPropertyIds();
            String names = known == null ? "" : " (known: " + new TreeSet<>(known.stream().map(String::valueOf).toList())
                    .stream().collect(Collectors.joining(", ")) + ")";
            return ApiException.badRequest("unknown field '" + path(u) + "'" + names);
        }
        if (e instanceof StreamReadException r) {
            String where = r.getLocation() == null ? "" : " at line " + r.getLocation().getLineNr() + ", column "
                    + r.getLocation().getColumnNr();
            return ApiException.badRequest("malformed JSON" + where + ": " + firstLine(r.getOriginalMessage()));
        }
        if (e instanceof MismatchedInputException m) {
            String field = path(m);
            String expected = m.getTargetType() == null ? "another type" : describe(m.getTargetType());
            return ApiException.badRequest(field.isEmpty() ? "expected a JSON object"
                    : "'" + field + "' has the wrong type: expected " + expected);
        }
        return ApiException.badRequest("invalid JSON: " + firstLine(e.getOriginalMessage()));
    }

    /** The dotted JSON path of the field a mapping error is about, e.g. forget.classes[0]. */
    private static String path(JsonMappingException e) {
        StringBuilder b = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                b.append(b.length() == 0 ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                b.append('[').append(r.getIndex()).append(']');
            }
        }
        return b.toString();
    }

    private static String describe(Class<?> type) {
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "an integer";
        }
        if (type == Double.class || type == double.class) {
            return "a number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a string";
        }
        if (Collection.class.isAssignableFrom(type)) {
            return "an array";
        }
        return "an object";
    }

    /** The one line a client sees for a failure: what the core said, without wrappers, in the API's terms. */
    static String message(Throwable t) {
        Throwable root = t;
        while ((root instanceof java.util.concurrent.ExecutionException
                || root instanceof java.util.concurrent.CompletionException
                || root instanceof java.io.UncheckedIOException
                || (root.getClass() == RuntimeException.class && root.getMessage() == null))
                && root.getCause() != null) {
            root = root.getCause();
        }
        String m = root.getMessage();
        if (m == null || m.isBlank()) {
            m = root.getClass().getSimpleName();
        } else if (root instanceof NoSuchFileException) {
            m = "no such file: " + m;
        } else if (root instanceof AccessDeniedException) {
            m = "permission denied: " + m;
        } else if (root instanceof OutOfMemoryError) {
            m = "out of memory (" + m + "); give the server a larger heap (LETHE_JAVA_OPTS=-Xmx...)";
        } else if (root instanceof IOException && root.getClass().getName().startsWith("java.")
                && !(root instanceof java.io.FileNotFoundException)) {
            m = root.getClass().getSimpleName() + ": " + m;
        }
        if (root instanceof ai.lethe.InvalidSettingException invalid) {
            m = invalid.message(ApiErrors::field);
        }
        return m.replace('\n', ' ').strip();
    }

    /** How a client of the API names a setting the core calls {@code name}: its JSON field, quoted. */
    static String field(String name) {
        return "'" + CORE_TO_API.getOrDefault(name, name) + "'";
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }
}
