package ai.lethe.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.lethe.Lethe;
import ai.lethe.data.MnemonicCodes;
import ai.lethe.method.Method;
import ai.lethe.method.SettingField;
import ai.lethe.model.Weights;

/**
 * Every method of the registry runs through {@code POST /jobs} end to end on the bundled CNN (the TorchScript
 * file, or the same weights as a zoo model for the methods that rebuild layers), with a body built from the
 * method's schema in the served OpenAPI document: every field it lists, at the default it lists, is accepted.
 * The schema lists exactly the run-level fields and settings the registry gives the method, and settings out
 * of range, unknown fields and fields of another method are 400 with the reason.
 */
class ServerMethodsTest {

    @TempDir
    Path data;

    @TempDir
    Path root;

    @Test
    void everyMethodRunsThroughTheServiceAsItsSchemaDescribesIt() throws Exception {
        Path codes = root.resolve("cnn.codes.safetensors");
        MnemonicCodes.draw(10, new int[] {1, 28, 28}, 7, "uniform", 0.1).save(codes);
        Path zoo = zooCnn(root);
        try (ServerHarness h = ServerHarness.start(data, c -> c.allowedRoot(root))) {
            ApiClient api = h.client;
            String torchscript = api.uploadDemoModel();
            String zooModel = api.postBytes("/models?name=zoo-cnn", Files.readAllBytes(zoo), "application/octet-stream")
                    .expect(201).path("id").asText();
            JsonNode schemas = api.get("/openapi.json").expect(200).path("components").path("schemas");
            assertEquals(Method.values().length, schemas.path("ForgetJobRequest").path("oneOf").size());

            List<String> jobs = new ArrayList<>();
            for (Method m : Method.values()) {
                JsonNode schema = schemas.path(ForgetJobSchema.name(m));
                Set<String> documented = new TreeSet<>();
                schema.path("properties").fieldNames().forEachRemaining(documented::add);
                Set<String> expected = new TreeSet<>(ForgetJobSpec.runFields(m));
                m.fields().forEach(f -> expected.add(f.name()));
                assertEquals(expected, documented, m.id() + ": the schema lists exactly what the registry gives the method");
                assertEquals(false, schema.path("additionalProperties").asBoolean(true), m.id());

                ObjectNode body = ApiClient.JSON.createObjectNode();
                schema.path("properties").fields().forEachRemaining(p -> {
                    if (p.getValue().has("default")) {
                        body.set(p.getKey(), p.getValue().get("default"));
                    }
                });
                for (SettingField f : m.fields()) {
                    Object registry = f.valueIn((Record) m.defaults());
                    JsonNode listed = schema.path("properties").path(f.name()).path("default");
                    if (registry instanceof Number n) {
                        assertEquals(n.doubleValue(), listed.asDouble(), Math.abs(n.doubleValue()) * 1e-6, m.id() + " " + f.name());
                    }
                }
                boolean needsZoo = m == Method.RFA || m == Method.RETRAIN;
                body.put("model", needsZoo ? zooModel : torchscript).put("method", m.id()).put("data", "fashion-mnist")
                        .put("train_limit", 400).put("evaluate", false);
                body.putObject("forget").putArray("classes").add(1);
                if (body.has("epochs")) {
                    body.put("epochs", 1);
                }
                if (m == Method.MNEMONIC) {
                    body.put("codes", codes.getFileName().toString());
                }
                jobs.add(api.submit(body.toString()));
            }
            for (int i = 0; i < jobs.size(); i++) {
                Method m = Method.values()[i];
                JsonNode job = api.awaitSuccess(jobs.get(i), Duration.ofSeconds(300));
                assertEquals(m.id(), job.path("request").path("method").asText());
                JsonNode report = api.get("/jobs/" + jobs.get(i) + "/report").expect(200);
                assertEquals(m.id(), report.path("method").asText());
                assertEquals(m.baseline(), report.path("baseline").asBoolean(), m.id() + " reports whether it is a baseline");
                assertTrue(report.path("selected").asLong() > 0, m.id() + " changed the model: " + report);
                assertTrue(report.path("settings").size() > 0, m.id());
                ApiClient.Response model = api.get("/jobs/" + jobs.get(i) + "/model");
                assertEquals(200, model.status(), m.id());
                assertTrue(model.body().length > 100_000, m.id() + ": the forgotten model");
            }
            assertEquals("safetensors", api.get("/jobs/" + jobs.get(Method.RFA.ordinal())).expect(200)
                    .path("request").path("output").asText(), "a zoo model is written as safetensors");
        }
    }

    @Test
    void settingsOutOfRangeUnknownFieldsAndOtherMethodsFieldsAreRefusedWithTheReason() throws Exception {
        try (ServerHarness h = ServerHarness.start(data, c -> c)) {
            ApiClient api = h.client;
            String model = api.uploadDemoModel();
            String base = "{\"model\": \"" + model + "\", \"data\": \"fashion-mnist\", \"forget\": {\"classes\": [1]}, ";
            api.postJson("/jobs", base + "\"method\": \"finetune\", \"epochs\": -1}").expectError(400, "'epochs' must not be negative");
            api.postJson("/jobs", base + "\"method\": \"finetune\", \"epochs\": 0}").expectError(400,
                    "'epochs' must be at least 1 for finetune");
            api.postJson("/jobs", base + "\"method\": \"rfa\", \"beta\": -1}").expectError(400, "'beta' must be a non-negative number");
            api.postJson("/jobs", base + "\"method\": \"rfa\", \"shift\": \"sideways\"}").expectError(400,
                    "'shift' must be mean-other or random");
            api.postJson("/jobs", base + "\"method\": \"rfa\", \"rank\": \"four\"}").expectError(400, "'rank' has the wrong type");
            api.postJson("/jobs", base + "\"method\": \"rfa\", \"rank\": 2.5}").expectError(400, "'rank' must be an integer");
            api.postJson("/jobs", base + "\"method\": \"deepclean\", \"gamma\": 2, \"reset_fraction\": 0.1}").expectError(400,
                    "give 'gamma' or 'reset_fraction', not both");
            api.postJson("/jobs", base + "\"alpha\": 0}").expectError(400, "'alpha' must be a positive number");
            api.postJson("/jobs", base + "\"method\": \"lfssd\", \"lamda\": 2}").expectError(400, "unknown field 'lamda'");
            api.postJson("/jobs", base + "\"method\": \"mnemonic\", \"alpha\": 2}").expectError(400,
                    "'alpha' does not apply to mnemonic");
            api.postJson("/jobs", base + "\"method\": \"neggrad\", \"estimator\": \"batch\"}").expectError(400,
                    "'estimator' does not apply to neggrad");
            api.postJson("/jobs", base + "\"method\": \"lfssd\", \"estimator\": \"batch\"}").expectError(400,
                    "'estimator' batch would make it ssd (use 'method' ssd)");
            api.postJson("/jobs", base + "\"method\": \"rfa\", \"output\": \"torchscript\", \"rank\": 2}").expect(202);
            assertEquals(0, api.get("/jobs").expect(200).path("jobs").size() - 1, "only the last, valid request was queued");
        }
    }

    @Test
    void aJobStoredByTheOlderServerStillRuns() throws Exception {
        // the older server wrote alpha and lambda for every method; deepclean reads neither
        String old = "{\"model\": \"m\", \"data\": \"fashion-mnist\", \"train_limit\": 0, \"forget\": {\"classes\": [1]},"
                + " \"method\": \"deepclean\", \"alpha\": 10.0, \"lambda\": 1.0, \"batch_size\": 64, \"estimator\": \"batch\","
                + " \"importance\": null, \"evaluate\": true, \"output\": \"torchscript\"}";
        ForgetJobSpec spec = ForgetJobSpec.parseStored(ApiClient.JSON.readTree(old));
        assertTrue(spec.settings().isEmpty(), spec.toString());
        var request = spec.toForgetRequest(null);
        request.validate();
        assertEquals(Method.DEEPCLEAN, request.method());
        ApiException refused = org.junit.jupiter.api.Assertions.assertThrows(ApiException.class,
                () -> ForgetJobSpec.parse(ApiClient.JSON.readTree(old)));
        assertTrue(refused.getMessage().contains("'alpha' does not apply to deepclean"), refused.getMessage());
    }

    /** The bundled CNN's weights as a zoo model (a safetensors state_dict that names its architecture). */
    private static Path zooCnn(Path dir) throws Exception {
        Path pt = dir.resolve("cnn.pt");
        Files.write(pt, ApiClient.demoModel());
        Path stateDict = dir.resolve("state-dict.safetensors");
        try (Lethe ts = Lethe.load(pt, "scalar")) {
            Weights.save(ts.model(), stateDict);
        }
        Path zoo = dir.resolve("cnn-zoo.safetensors");
        try (Lethe z = Lethe.load(stateDict, "cnn", "scalar")) {
            z.save(zoo);
        }
        return zoo;
    }
}
