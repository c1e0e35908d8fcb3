package ai.lethe.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import ai.lethe.Lethe;

/** The API end to end on a real server over loopback HTTP, with real Fashion-MNIST and the bundled CNN. */
class ServerApiTest {

    private static final Duration JOB_TIMEOUT = Duration.ofSeconds(120);

    @TempDir
    Path data;

    @TempDir
    Path root;

    private ServerHarness harness;
    private ApiClient api;

    @BeforeEach
    void start() {
        harness = ServerHarness.start(data, c -> c.allowedRoot(root).maxUploadBytes(1 << 20));
        api = harness.client;
    }

    @AfterEach
    void stop() {
        harness.close();
    }

    @Test
    void theServiceWarmsTheVectorKernelsUpWhileItWaitsForItsFirstJob() {
        assertTrue(harness.server.backend().startsWith("vector"), () -> "this test needs the Vector API back end, got " + harness.server.backend());
        assertTrue(ai.lethe.kernels.KernelWarmup.started(), "a service on the vector back end starts the kernels' warm-up");
    }

    @Test
    void aForgetJobRunsAndItsModelDownloadsAndLoads() throws Exception {
        JsonNode model = api.postBytes("/models?name=cnn", ApiClient.demoModel(), "application/octet-stream").expect(201);
        String modelId = model.path("id").asText();
        assertEquals("torchscript", model.path("format").asText());
        assertEquals(105_866, model.path("parameters").asLong());
        assertEquals(64, model.path("fingerprint").asText().length());
        assertEquals(model, api.get("/models/" + modelId).expect(200));

        String jobId = api.submit("{\"model\": \"" + modelId + "\", \"data\": \"fashion-mnist\", \"train_limit\": 1000,"
                + " \"forget\": {\"classes\": [1]}, \"method\": \"lfssd\", \"alpha\": 2}");
        api.get("/jobs/" + jobId + "/model").expectError(409, "available once it has succeeded");
        JsonNode job = api.awaitSuccess(jobId, JOB_TIMEOUT);
        assertEquals(1, job.path("attempts").asInt());
        assertEquals(1.0, job.path("progress").path("fraction").asDouble());
        assertEquals("lfssd", job.path("request").path("method").asText());
        assertEquals(2.0, job.path("request").path("alpha").asDouble());
        assertEquals("label-free", job.path("request").path("estimator").asText(), "defaults are filled in");

        JsonNode report = api.get("/jobs/" + jobId + "/report").expect(200);
        assertEquals("lfssd", report.path("method").asText());
        assertEquals("class 1", report.path("forget_set").asText());
        assertEquals(model.path("fingerprint").asText(), report.path("model_fingerprint").asText());
        assertTrue(report.path("after").path("forget_test_acc").asDouble() < 0.05, report.toString());

        ApiClient.Response download = api.get("/jobs/" + jobId + "/model");
        assertEquals(200, download.status());
        assertEquals("attachment; filename=\"" + jobId + ".pt\"", download.header("Content-Disposition"));
        assertEquals(Long.toString(download.body().length), download.header("Content-Length"));
        Path file = root.resolve("downloaded.pt");
        Files.write(file, download.body());
        try (Lethe lethe = Lethe.load(file, "scalar")) {
            assertEquals(report.path("output_fingerprint").asText(), lethe.model().fingerprint(), "the download is the forgotten model");
            assertNotEquals(model.path("fingerprint").asText(), lethe.model().fingerprint());
        }
    }

    @Test
    void anImportanceIsComputedOnceAndReusedByForgetJobs() {
        String modelId = api.uploadDemoModel();
        String body = "{\"data\": \"fashion-mnist\", \"train_limit\": 1000}";
        JsonNode first = api.postJson("/models/" + modelId + "/importances", body).expect(202);
        String impId = first.path("id").asText();
        assertEquals("/importances/" + impId, api.postJson("/models/" + modelId + "/importances", body).header("Location"));
        JsonNode again = api.postJson("/models/" + modelId + "/importances", body).expect(200);
        assertEquals(impId, again.path("id").asText(), "the same settings give the same importance");
        assertEquals(first.path("job").asText(), again.path("job").asText(), "and no second job");
        api.awaitSuccess(first.path("job").asText(), JOB_TIMEOUT);
        JsonNode imp = api.get("/importances/" + impId).expect(200);
        assertEquals("succeeded", imp.path("state").asText());
        assertEquals("batch", imp.path("estimator").asText());
        assertEquals(impId, api.get("/importances?model=" + modelId).expect(200).path("importances").get(0).path("id").asText());
        assertTrue(Files.isRegularFile(data.resolve("importances").resolve(impId).resolve("importance_full.safetensors")));

        // Settings come from the importance; only the forget set is processed.
        String jobId = api.submit("{\"model\": \"" + modelId + "\", \"importance\": \"" + impId + "\","
                + " \"forget\": {\"indices\": [0, 1, 2, 3, 4, 5, 6, 7]}, \"evaluate\": false}");
        JsonNode job = api.awaitSuccess(jobId, JOB_TIMEOUT);
        assertEquals("fashion-mnist", job.path("request").path("data").asText());
        assertEquals(1000, job.path("request").path("train_limit").asInt());
        JsonNode report = api.get("/jobs/" + jobId + "/report").expect(200);
        assertTrue(report.path("importance_full_source").asText().startsWith("loaded from "), report.toString());
        assertEquals(8, report.path("forget_samples").asInt());

        api.postJson("/jobs", "{\"model\": \"" + modelId + "\", \"importance\": \"" + impId + "\", \"train_limit\": 2000,"
                + " \"forget\": {\"classes\": [1]}}").expectError(400, "'train_limit' is 2000 but importance " + impId);
        api.postJson("/jobs", "{\"model\": \"" + modelId + "\", \"importance\": \"" + impId + "\", \"method\": \"lfssd\","
                + " \"forget\": {\"classes\": [1]}}").expectError(400, "'estimator' is label-free");
        String other = api.uploadDemoModel();
        api.postJson("/jobs", "{\"model\": \"" + other + "\", \"importance\": \"" + impId + "\", \"forget\": {\"classes\": [1]}}")
                .expectError(400, "belongs to model " + modelId);
        api.postJson("/jobs", "{\"model\": \"" + modelId + "\", \"importance\": \"imp-0000000000000000\", \"forget\": {\"classes\": [1]}}")
                .expectError(404, "no importance");
    }

    @Test
    void modelsAreRegisteredFromPathsUnderTheAllowedRootOnly() throws Exception {
        Path models = Files.createDirectories(root.resolve("models"));
        Files.write(models.resolve("cnn.pt"), ApiClient.demoModel());
        Path outside = Files.createDirectories(data.resolve("elsewhere"));
        Files.write(outside.resolve("secret.pt"), ApiClient.demoModel());
        Files.createSymbolicLink(models.resolve("escape.pt"), outside.resolve("secret.pt"));
        Files.createSymbolicLink(root.resolve("escape-dir"), outside);
        Files.createSymbolicLink(models.resolve("inside.pt"), models.resolve("cnn.pt"));

        JsonNode m = api.postJson("/models", "{\"path\": \"models/cnn.pt\", \"name\": \"by path\"}").expect(201);
        assertEquals("by path", m.path("name").asText());
        assertEquals("path:" + models.resolve("cnn.pt").toRealPath(), m.path("source").asText());
        api.postJson("/models", "{\"path\": \"" + models.resolve("inside.pt") + "\"}").expect(201);

        api.postJson("/models", "{\"path\": \"../" + data.getFileName() + "/elsewhere/secret.pt\"}").expectError(403, "outside the allowed root");
        api.postJson("/models", "{\"path\": \"models/../../x.pt\"}").expectError(403, "outside the allowed root");
        api.postJson("/models", "{\"path\": \"" + outside.resolve("secret.pt") + "\"}").expectError(403, "outside the allowed root");
        api.postJson("/models", "{\"path\": \"models/escape.pt\"}").expectError(403, "symbolic link");
        api.postJson("/models", "{\"path\": \"escape-dir/secret.pt\"}").expectError(403, "symbolic link");
        api.postJson("/models", "{\"path\": \"models/missing.pt\"}").expectError(400, "no such file");
        api.postJson("/models", "{\"path\": \"models\"}").expectError(400, "not a regular file");
        Files.writeString(models.resolve("broken.pt"), "PK\u0003\u0004 but not a TorchScript archive");
        api.postJson("/models", "{\"path\": \"models/broken.pt\"}").expectError(422, "not a usable torchscript model");

        // Data directories are confined the same way.
        api.postJson("/jobs", "{\"model\": \"" + m.path("id").asText() + "\", \"data\": \"idx:escape-dir\", \"forget\": {\"classes\": [1]}}")
                .expectError(403, "symbolic link");
        api.postJson("/jobs", "{\"model\": \"" + m.path("id").asText() + "\", \"data\": \"npy:/etc\", \"forget\": {\"classes\": [1]}}")
                .expectError(403, "outside the allowed root");
        assertEquals(2, api.get("/models").expect(200).path("models").size(), "refused files were not registered");
        assertNoLeftovers();
    }

    @Test
    void uploadsComeAsRawBodiesOrMultipartAndSafetensorsNeedABaseModel() throws Exception {
        String boundary = "lethe-test-boundary";
        byte[] multipart = multipart(boundary, "weird name.pt", ApiClient.demoModel(), "name", "from a form");
        JsonNode m = api.postBytes("/models", multipart, "multipart/form-data; boundary=" + boundary).expect(201);
        assertEquals("from a form", m.path("name").asText());

        // Weights of a forgotten model, registered against the architecture they belong to.
        String jobId = api.submit("{\"model\": \"" + m.path("id").asText() + "\", \"data\": \"fashion-mnist\", \"train_limit\": 600,"
                + " \"forget\": {\"random\": 0.02, \"seed\": 3}, \"evaluate\": false, \"output\": \"safetensors\"}");
        api.awaitSuccess(jobId, JOB_TIMEOUT);
        ApiClient.Response weights = api.get("/jobs/" + jobId + "/model");
        assertEquals(200, weights.status());
        assertTrue(weights.header("Content-Disposition").endsWith(".safetensors\""));
        api.postBytes("/models", weights.body(), "application/octet-stream")
                .expectError(400, "safetensors weights need 'base_model'");
        api.postBytes("/models?base_model=model-0000000000000000", weights.body(), "application/octet-stream")
                .expectError(404, "no model 'model-0000000000000000'");
        JsonNode w = api.postBytes("/models?name=forgotten&base_model=" + m.path("id").asText(), weights.body(),
                "application/octet-stream").expect(201);
        assertEquals("safetensors", w.path("format").asText());
        assertEquals(api.get("/jobs/" + jobId + "/report").expect(200).path("output_fingerprint").asText(),
                w.path("fingerprint").asText(), "the weights registered are the forgotten model's");

        // A model registered as weights runs jobs like any other.
        String second = api.submit("{\"model\": \"" + w.path("id").asText() + "\", \"data\": \"fashion-mnist\", \"train_limit\": 600,"
                + " \"forget\": {\"classes\": [2]}, \"evaluate\": false}");
        JsonNode report = api.get("/jobs/" + api.awaitSuccess(second, JOB_TIMEOUT).path("id").asText() + "/report").expect(200);
        assertEquals(w.path("fingerprint").asText(), report.path("model_fingerprint").asText());
        assertNoLeftovers();
    }

    @Test
    void badRequestsGetAJsonErrorWithTheRightStatus() throws Exception {
        String modelId = api.uploadDemoModel();
        String forget = "\"forget\": {\"classes\": [1]}";
        api.postJson("/jobs", "{\"model\": \"" + modelId + "\", ").expectError(400, "malformed JSON");
        api.postJson("/jobs", "").expectError(400, "the request body is empty");
        api.postJson("/jobs", "[1, 2]").expectError(400, "expected a JSON object");
        api.postJson("/jobs", "{\"model\": \"" + modelId + "\", \"lamda\": 2, " + forget + "}").expectError(400, "unknown field 'lamda'");
        api.postJson("/jobs", "{\"model\": \"" + modelId + "\", \"alpha\": \"high\", " + forget + "}").expectError(400, "'alpha' has the wrong type");
        api.postJson("/jobs", "{\"model\": \"" + modelId + "\", \"data\": \"fashion-mnist\"}").expectError(400, "'forget' is required");
        api.postJson("/jobs", "{\"data\": \"fashion-mnist\", " + forget + "}").expectError(400, "'model' is required");
        api.postJson("/jobs", "{\"model\": \"" + modelId + "\", \"data\": \"fashion-mnist\", \"forget\": {\"classes\": [1], \"random\": 0.1}}")
                .expectError(400, "exactly one of");
        api.postJson("/jobs", "{\"model\": \"" + modelId + "\", \"data\": \"fashion-mnist\", \"forget\": {\"random\": 1.5}}")
                .expectError(400, "'forget.random' must be a fraction");
        api.postJson("/jobs", "{\"model\": \"" + modelId + "\", \"data\": \"fashion-mnist\", \"method\": \"magic\", " + forget + "}")
                .expectError(400, "unknown method 'magic'");
        api.postJson("/jobs", "{\"model\": \"" + modelId + "\", \"data\": \"fashion-mnist\", \"alpha\": -1, " + forget + "}")
                .expectError(400, "'alpha' must be a positive number");
        api.postJson("/jobs", "{\"model\": \"" + modelId + "\", \"data\": \"fashion-mnist\", \"batch_size\": 0, " + forget + "}")
                .expectError(400, "'batch_size' must be at least 1");
        api.postJson("/jobs", "{\"model\": \"" + modelId + "\", \"data\": \"mnist\", " + forget + "}").expectError(400, "unknown data 'mnist'");
        api.postJson("/jobs", "{\"model\": \"" + modelId + "\", \"data\": \"fashion-mnist\", \"output\": \"onnx\", " + forget + "}")
                .expectError(400, "unknown output 'onnx'");
        api.postJson("/jobs", "{\"model\": \"model-0000000000000000\", \"data\": \"fashion-mnist\", " + forget + "}")
                .expectError(404, "no model 'model-0000000000000000'");
        api.postJson("/models/nope/importances", "{\"data\": \"fashion-mnist\"}").expectError(404, "no model 'nope'");
        api.postJson("/models/" + modelId + "/importances", "{\"data\": \"fashion-mnist\", \"estimator\": \"exact\"}")
                .expectError(400, "unknown estimator 'exact'");

        for (String path : List.of("/jobs/job-0000000000000000", "/jobs/job-0000000000000000/report",
                "/jobs/job-0000000000000000/model", "/models/x", "/importances/y")) {
            api.get(path).expectError(404, "no ");
        }
        api.postJson("/jobs/job-0000000000000000/cancel", "").expectError(404, "no job");
        api.get("/nowhere").expectError(404, "no such endpoint: GET /nowhere");
        api.send(api.request("/jobs").DELETE().build()).expectError(405, "method DELETE is not allowed");
        api.get("/jobs?state=done").expectError(400, "unknown job state 'done'");
        api.get("/jobs?limit=0").expectError(400, "'limit' must be between 1 and 1000");
        api.get("/jobs?colour=blue").expectError(400, "unknown query parameter 'colour'");
        api.get("/importances?model=nope").expectError(404, "no model 'nope'");
        // Refused by Jetty before routing, still answered in JSON.
        api.send(api.request("/health").header("X-Padding", "x".repeat(20_000)).GET().build())
                .expectError(431, "the request headers are larger than the server accepts");
        String raw = rawRequest("GET /jobs/%zz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        assertTrue(raw.startsWith("HTTP/1.1 400 "), raw);
        assertTrue(raw.contains("application/json") && raw.contains("\"message\" : \"malformed HTTP request"), raw);

        // Uploads: not a model, empty, too large (declared, chunked without a length, and multipart).
        api.postBytes("/models", "hello".getBytes(), "application/octet-stream").expectError(422, "neither a TorchScript model");
        api.postBytes("/models", new byte[0], "application/octet-stream").expectError(400, "the upload is empty");
        api.postBytes("/models?nmae=x", ApiClient.demoModel(), "application/octet-stream").expectError(400, "unknown query parameter 'nmae'");
        byte[] tooLarge = new byte[(1 << 20) + 1];
        api.postBytes("/models", tooLarge, "application/octet-stream").expectError(413, "larger than the limit of 1.0 MiB");
        api.send(api.request("/models").header("Content-Type", "application/octet-stream")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(tooLarge))).build())
                .expectError(413, "larger than the limit of 1.0 MiB");
        api.postBytes("/models", multipart("b0undary", "big.pt", tooLarge), "multipart/form-data; boundary=b0undary")
                .expectError(413, "larger than the limit of 1.0 MiB");
        api.postBytes("/models", multipart("b0undary", "m.pt", ApiClient.demoModel(), "nmae", "typo"), "multipart/form-data; boundary=b0undary")
                .expectError(400, "unknown form field 'nmae'");
        api.postBytes("/models", multipart("b0undary", "m.pt", ApiClient.demoModel()), "multipart/form-data; boundary=other")
                .expectError(400, "malformed multipart/form-data body");
        api.postJson("/models", "{\"name\": \"no path\"}").expectError(400, "'path' is required");
        String huge = "{\"model\": \"" + modelId + "\", \"forget\": {\"indices\": [" + "1,".repeat(9_000_000) + "1]}}";
        api.postJson("/jobs", huge).expectError(413, "the request body is larger than 16 MiB");

        assertEquals(1, api.get("/models").expect(200).path("models").size(), "nothing but the first model was registered");
        assertNoLeftovers();
    }

    @Test
    void aJobThatFailsSaysWhyAndHasNoOutputs() {
        String modelId = api.uploadDemoModel();
        String jobId = api.submit("{\"model\": \"" + modelId + "\", \"data\": \"fashion-mnist\", \"train_limit\": 500,"
                + " \"forget\": {\"classes\": [11]}}");
        JsonNode job = api.awaitEnd(jobId, JOB_TIMEOUT);
        assertEquals("failed", job.path("state").asText());
        assertTrue(job.path("error").asText().contains("forget class 11 is out of range: the model has 10 classes"), job.toString());
        api.get("/jobs/" + jobId + "/model").expectError(409, "failed (forget class 11 is out of range");
        api.get("/jobs/" + jobId + "/report").expectError(409, "it has no report");
        api.postJson("/jobs/" + jobId + "/cancel", "").expectError(409, "has already ended (failed)");
        assertFalse(Files.exists(data.resolve("jobs").resolve(jobId).resolve("model.pt")));
        assertEquals(jobId, api.get("/jobs?state=failed").expect(200).path("jobs").get(0).path("id").asText());
    }

    /** Sends bytes a well-behaved client would refuse to send; returns the raw response. */
    private String rawRequest(String request) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", harness.server.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** Nothing half-written anywhere: no temporary upload, no .partial file of an atomic write. */
    private void assertNoLeftovers() throws Exception {
        try (Stream<Path> files = Files.list(data.resolve("tmp"))) {
            assertEquals(List.of(), files.toList(), "tmp/ is empty");
        }
        try (Stream<Path> files = Files.walk(data)) {
            assertEquals(List.of(), files.filter(p -> p.toString().endsWith(".partial")).toList());
        }
    }

    /** A multipart/form-data body: the file in part "file", then name/value fields. */
    static byte[] multipart(String boundary, String filename, byte[] content, String... fields) {
        List<byte[]> parts = new ArrayList<>();
        for (int i = 0; i < fields.length; i += 2) {
            parts.add(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + fields[i] + "\"\r\n\r\n" + fields[i + 1]
                    + "\r\n").getBytes());
        }
        parts.add(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename
                + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes());
        parts.add(content);
        parts.add(("\r\n--" + boundary + "--\r\n").getBytes());
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        parts.forEach(out::writeBytes);
        return out.toByteArray();
    }
}
