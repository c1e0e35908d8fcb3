package ai.lethe.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

import io.javalin.http.HttpStatus;

/**
 * Errors that Jetty answers itself, before a request reaches the API (a header block or URI over Jetty's limits,
 * a URI it cannot decode), in the API's JSON error format instead of Jetty's HTML page.
 */
final class JsonErrorHandler extends ErrorHandler {

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
                                    Callback callback) throws IOException {
        String reason = HttpStatus.forStatus(code).getMessage();
        String text;
        if (message != null && !message.isBlank() && !message.equals(reason)) {
            text = message.replace('\n', ' ').strip();
        } else if (code == 400) {
            text = "malformed HTTP request (its request line, a header or the encoding of its URI)";
        } else if (code == 414) {
            text = "the URI is longer than the server accepts";
        } else if (code == 431) {
            text = "the request headers are larger than the server accepts";
        } else {
            text = reason;
        }
        byte[] body = Json.write(new ApiErrors.ErrorBody(code, reason, text)).getBytes(StandardCharsets.UTF_8);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
    }
}
