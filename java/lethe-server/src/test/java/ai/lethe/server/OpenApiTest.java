package ai.lethe.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * openapi.json and the server cannot drift apart: the document lists exactly the routes the server registers,
 * and a real request to each documented operation reaches a handler (never 404 "no such endpoint" or 405) and
 * answers with a status the document lists for it.
 */
class OpenApiTest {

    @TempDir
    Path data;

    @Test
    void everyDocumentedOperationExistsAndAnswersAsDocumented() {
        try (ServerHarness h = ServerHarness.start(data, c -> c)) {
            ApiClient api = h.client;
            JsonNode doc = api.get("/openapi.json").expect(200);
            assertEquals("3.1.0", doc.path("openapi").asText());

            Set<String> documented = new TreeSet<>();
            doc.path("paths").fields().forEachRemaining(p -> p.getValue().fieldNames()
                    .forEachRemaining(method -> documented.add(method.toUpperCase() + " " + p.getKey())));
            assertEquals(new TreeSet<>(h.server.routes()), documented, "openapi.json lists exactly the server's routes");

            // Real resources, so that every path parameter names something that exists.
            String model = api.uploadDemoModel();
            JsonNode imp = api.postJson("/models/" + model + "/importances", "{\"data\": \"fashion-mnist\", \"train_limit\": 300}")
                    .expect(202);
            api.awaitSuccess(imp.path("job").asText(), Duration.ofSeconds(120));
            String job = api.submit("{\"model\": \"" + model + "\", \"data\": \"fashion-mnist\", \"train_limit\": 300,"
                    + " \"forget\": {\"classes\": [1]}, \"evaluate\": false}");
            api.awaitSuccess(job, Duration.ofSeconds(120));
            Map<String, String> bodies = Map.of(
                    "POST /models/{id}/importances", "{\"data\": \"fashion-mnist\", \"train_limit\": 300}",
                    "POST /jobs", "{\"model\": \"" + model + "\", \"data\": \"fashion-mnist\", \"train_limit\": 300,"
                            + " \"forget\": {\"classes\": [2]}, \"evaluate\": false}",
                    "POST /jobs/{id}/cancel", "");

            for (Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").fields(); paths.hasNext(); ) {
                Map.Entry<String, JsonNode> p = paths.next();
                String path = p.getKey();
                String id = path.startsWith("/models/") ? model : path.startsWith("/importances/") ? imp.path("id").asText() : job;
                String concrete = path.replace("{id}", id);
                for (Iterator<Map.Entry<String, JsonNode>> ops = p.getValue().fields(); ops.hasNext(); ) {
                    Map.Entry<String, JsonNode> op = ops.next();
                    String key = op.getKey().toUpperCase() + " " + path;
                    ApiClient.Response r;
                    if (key.equals("POST /models")) {
                        r = api.postBytes(concrete, ApiClient.demoModel(), "application/octet-stream");
                    } else if (op.getKey().equals("post")) {
                        r = api.postJson(concrete, bodies.get(key));
                    } else {
                        r = api.get(concrete);
                    }
                    assertNotEquals(405, r.status(), key + ": " + r);
                    assertTrue(r.status() != 404 || !r.text().contains("no such endpoint"), key + ": " + r);
                    assertTrue(op.getValue().path("responses").has(Integer.toString(r.status())),
                            key + " answered " + r.status() + ", which openapi.json does not list: " + r);
                }
            }
        }
    }
}
