package ai.lethe.server;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.lethe.ForgetRequest;
import ai.lethe.InvalidSettingException;
import ai.lethe.importance.Estimator;
import ai.lethe.method.Method;
import ai.lethe.method.MethodSettings;
import ai.lethe.method.SettingField;

/**
 * The body of {@code POST /jobs}: which model forgets what, how, and on which data. The run-level fields are
 * {@link #RUN_FIELDS}; the method's own settings are the fields of its {@link MethodSettings} record in the
 * {@link Method} registry, flat beside them ({@code "alpha"}, {@code "epochs"}, ...). Absent fields take the
 * CLI's defaults (ssd, the method's settings defaults, batch size 64, the method's estimator, evaluation on, all
 * training samples, seed 0, TorchScript output, or safetensors for a zoo model). With {@code importance}, the
 * stored D-importance is reused, and data, train limit, batch size and estimator default to the importance's own.
 *
 * @param settings the method's settings by field name, every field present once normalized
 */
record ForgetJobSpec(String model, String data, Integer trainLimit, ForgetSetSpec forget, String method,
                     Map<String, Object> settings, Integer batchSize, String estimator, String importance, Boolean evaluate,
                     String output, Long seed) {

    static final String TORCHSCRIPT = "torchscript";
    static final String SAFETENSORS = "safetensors";

    /** The fields every forget job takes, whatever its method. */
    static final List<String> RUN_FIELDS = List.of("model", "data", "train_limit", "forget", "method", "batch_size", "estimator",
            "importance", "evaluate", "output", "seed");

    /** The run-level fields that {@code m} reads: the importance settings only where it computes importances. */
    static List<String> runFields(Method m) {
        List<String> out = new ArrayList<>(RUN_FIELDS);
        if (!m.usesImportances()) {
            out.remove("batch_size");
            out.remove("estimator");
        }
        if (!m.reusesImportanceFull()) {
            out.remove("importance");
        }
        return out;
    }

    /** The run-level fields as JSON binds them (so a wrong type gets the usual 400). */
    private record RunFields(String model, String data, Integer trainLimit, ForgetSetSpec forget, String method,
                             Integer batchSize, String estimator, String importance, Boolean evaluate, String output, Long seed) {
    }

    /**
     * Reads a request body (or a stored request): the run-level fields, then the method's settings; a field that
     * is neither, or that belongs to another method, is a 400 that says which fields there are.
     */
    static ForgetJobSpec parse(JsonNode body) {
        return parse(body, false);
    }

    /**
     * A request stored by this server, perhaps by an older version: fields its method does not read (an older
     * version wrote alpha and lambda for every method) are dropped rather than refused.
     */
    static ForgetJobSpec parseStored(JsonNode body) {
        return parse(body, true);
    }

    private static ForgetJobSpec parse(JsonNode body, boolean stored) {
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest("expected a JSON object");
        }
        ObjectNode run = Json.MAPPER.createObjectNode();
        Map<String, JsonNode> rest = new LinkedHashMap<>();
        body.fields().forEachRemaining(e -> {
            if (RUN_FIELDS.contains(e.getKey())) {
                run.set(e.getKey(), e.getValue());
            } else {
                rest.put(e.getKey(), e.getValue());
            }
        });
        RunFields r;
        try {
            r = Json.MAPPER.treeToValue(run, RunFields.class);
        } catch (JsonProcessingException e) {
            throw ApiErrors.badJson(e);
        }
        Method m = method(r.method());
        for (String field : RUN_FIELDS) {
            if (!stored && body.has(field) && !body.get(field).isNull() && !runFields(m).contains(field)) {
                throw ApiException.badRequest("'" + field + "' does not apply to " + m.id() + (field.equals("importance")
                        ? ": only methods that compute the importance over the full training set (ssd, lfssd) can reuse a stored one"
                        : ": it computes no importances"));
            }
        }
        Map<String, SettingField> own = new LinkedHashMap<>();
        m.fields().forEach(f -> own.put(f.name(), f));
        Map<String, Object> settings = new LinkedHashMap<>();
        rest.forEach((name, value) -> {
            if (own.containsKey(name)) {
                settings.put(name, value(own.get(name), value));
            } else if (stored) {
                return; // written by an older version for a method that does not read it
            } else if (allSettingFields().contains(name)) {
                throw ApiException.badRequest("'" + name + "' does not apply to " + m.id() + " (its settings: "
                        + String.join(", ", names(m)) + ")");
            } else {
                Set<String> known = new TreeSet<>(runFields(m));
                known.addAll(names(m));
                throw ApiException.badRequest("unknown field '" + name + "' (known for " + m.id() + ": " + String.join(", ", known) + ")");
            }
        });
        return new ForgetJobSpec(r.model(), r.data(), r.trainLimit(), r.forget(), r.method(), settings, r.batchSize(),
                r.estimator(), r.importance(), r.evaluate(), r.output(), r.seed());
    }

    /**
     * This request with every default filled in, the data spec and the paths confined and made real, and the
     * settings checked by the core; a 400 with the reason otherwise. {@code stored} is the importance the request
     * names (null for none); its settings fill what the request leaves out and must agree with what it states.
     * {@code zooModel}: the model is a zoo architecture, which is written as safetensors only.
     */
    ForgetJobSpec normalized(PathGuard guard, StoredImportance stored, boolean zooModel) {
        if (model == null || model.isBlank()) {
            throw ApiException.badRequest("'model' is required: the id of a registered model");
        }
        if (forget == null) {
            throw ApiException.badRequest("'forget' is required: {\"classes\": [...]}, {\"indices\": [...]} or {\"random\": FRACTION}");
        }
        forget.toForgetSet();
        Method m = method(method);
        Estimator requested = estimator == null ? null : core(() -> Estimator.parse(estimator));
        Estimator est = core(() -> m.estimator(requested));
        String dataSpec = data == null && stored != null ? stored.data() : guard.dataSpec(data);
        int limit = trainLimit == null ? (stored != null ? stored.trainLimit() : 0) : trainLimit;
        int batch = batchSize == null ? (stored != null ? stored.batchSize() : 64) : batchSize;
        if (stored != null) {
            requireSame("data", dataSpec, stored.data(), stored);
            requireSame("train_limit", limit, stored.trainLimit(), stored);
            requireSame("estimator", est.id(), stored.estimator(), stored);
            if (est.dependsOnBatching()) {
                requireSame("batch_size", batch, stored.batchSize(), stored);
            }
        }
        String out = output == null ? (zooModel ? SAFETENSORS : TORCHSCRIPT) : output.strip().toLowerCase(Locale.ROOT);
        if (!out.equals(TORCHSCRIPT) && !out.equals(SAFETENSORS)) {
            throw ApiException.badRequest("unknown output '" + output + "' (expected torchscript or safetensors)");
        }
        if (zooModel && out.equals(TORCHSCRIPT)) {
            throw ApiException.badRequest("'output' torchscript: a zoo model is written as a safetensors state_dict");
        }
        MethodSettings s = core(() -> (MethodSettings) SettingField.with((Record) m.defaults(), confinedPaths(m, guard)));
        ForgetJobSpec n = new ForgetJobSpec(model, dataSpec, limit, forget, m.id(), values(m, s), m.usesImportances() ? batch : null,
                est == null ? null : est.id(), importance, evaluate == null || evaluate, out, seed == null ? 0 : seed);
        core(() -> {
            n.toForgetRequest(null).validate();
            return null;
        });
        return n;
    }

    /** The stored spec with its data and paths confined again: a symbolic link under the allowed root may have changed. */
    ForgetJobSpec confined(PathGuard guard) {
        Method m = method(method);
        return new ForgetJobSpec(model, guard.dataSpec(data), trainLimit, forget, method, confinedPaths(m, guard), batchSize,
                estimator, importance, evaluate, output, seed);
    }

    /** The core request of a normalized spec; {@code importanceFile} is the stored D-importance to reuse, or null. */
    ForgetRequest toForgetRequest(Path importanceFile) {
        Method m = method(method);
        return ForgetRequest.of(data, forget.toForgetSet()).method(m).estimator(estimator == null ? null : Estimator.parse(estimator))
                .batchSize(batchSize == null ? 64 : batchSize).trainLimit(trainLimit == null ? 0 : trainLimit)
                .importanceFull(importanceFile).evaluate(evaluate == null || evaluate).seed(seed == null ? 0 : seed)
                .settings((MethodSettings) SettingField.with((Record) m.defaults(), settings));
    }

    /** The file name of the forgotten model. */
    String outputFileName() {
        return SAFETENSORS.equals(output) ? "model.safetensors" : "model.pt";
    }

    /** The stored and echoed form: the run-level fields and the method's settings, flat. */
    @JsonValue
    ObjectNode json() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("model", model);
        o.put("data", data);
        o.put("train_limit", trainLimit);
        o.set("forget", Json.MAPPER.valueToTree(forget));
        o.put("method", method);
        settings.forEach((k, v) -> o.set(k, Json.MAPPER.valueToTree(v)));
        List<String> fields = runFields(method(method));
        if (fields.contains("batch_size")) {
            o.put("batch_size", batchSize);
            o.put("estimator", estimator);
        }
        if (fields.contains("importance")) {
            o.put("importance", importance);
        }
        o.put("evaluate", evaluate);
        o.put("output", output);
        o.put("seed", seed);
        return o;
    }

    // ---- helpers -----------------------------------------------------------------------------------

    /** Every settings field of every method. */
    static Set<String> allSettingFields() {
        Set<String> all = new TreeSet<>();
        for (Method m : Method.values()) {
            m.fields().forEach(f -> all.add(f.name()));
        }
        return all;
    }

    private static List<String> names(Method m) {
        List<String> out = new ArrayList<>();
        m.fields().forEach(f -> out.add(f.name()));
        return out;
    }

    private static Method method(String name) {
        return core(() -> Method.parse(name == null ? "ssd" : name));
    }

    /** The settings with every path field confined to the allowed root (and made real). */
    private Map<String, Object> confinedPaths(Method m, PathGuard guard) {
        Map<String, Object> out = new LinkedHashMap<>(settings);
        for (SettingField f : m.fields()) {
            if (f.type() == Path.class && out.get(f.name()) != null) {
                out.put(f.name(), guard.file(String.valueOf(out.get(f.name()))).toString());
            }
        }
        return out;
    }

    /** Every field of {@code s} as JSON values: paths as strings, floats as their shortest decimal, auto as "auto". */
    private static Map<String, Object> values(Method m, MethodSettings s) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (SettingField f : m.fields()) {
            Object v = f.valueIn((Record) s);
            if (v == null && f.setting().auto()) {
                v = "auto";
            } else if (v instanceof Float x) {
                v = Double.valueOf(Float.toString(x));
            } else if (v instanceof Path p) {
                v = p.toString();
            }
            out.put(f.name(), v);
        }
        return out;
    }

    /** A JSON value as the core's settings take it; a 400 when its JSON type is not the field's. */
    private static Object value(SettingField f, JsonNode v) {
        if (v == null || v.isNull()) {
            return null;
        }
        boolean auto = f.setting().auto() && v.isTextual() && v.asText().strip().equalsIgnoreCase("auto");
        boolean fits = f.numeric() ? v.isNumber() || auto
                : f.type() == boolean.class || f.type() == Boolean.class ? v.isBoolean() : v.isTextual();
        if (!fits) {
            throw ApiException.badRequest("'" + f.name() + "' has the wrong type: expected " + (f.integral() ? "an integer"
                    : f.numeric() ? "a number" : f.type() == boolean.class || f.type() == Boolean.class ? "true or false" : "a string")
                    + (f.setting().auto() ? " or \"auto\"" : ""));
        }
        return v.isNumber() ? v.numberValue() : v.isBoolean() ? (Object) v.booleanValue() : v.asText();
    }

    private static void requireSame(String field, Object requested, Object stored, StoredImportance imp) {
        if (!requested.equals(stored)) {
            throw ApiException.badRequest("'" + field + "' is " + requested + " but importance " + imp.id() + " was computed with "
                    + stored + "; leave it out or compute an importance with these settings");
        }
    }

    /** Runs a core parser or check, turning its IllegalArgumentException into a 400 with the reason in the API's terms. */
    private static <T> T core(java.util.function.Supplier<T> parser) {
        try {
            return parser.get();
        } catch (InvalidSettingException e) {
            throw ApiException.badRequest(e.message(ApiErrors::field));
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }
}
