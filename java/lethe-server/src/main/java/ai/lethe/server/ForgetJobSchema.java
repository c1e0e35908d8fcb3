package ai.lethe.server;

import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.lethe.method.Method;
import ai.lethe.method.SettingField;
import ai.lethe.method.Setting;

/**
 * The request schema of {@code POST /jobs} in the OpenAPI document, generated from the {@link Method} registry:
 * one schema per method ({@code ForgetJob_<method>}) with the run-level fields it reads (from the document's
 * {@code ForgetJobRunFields}) and its settings, each with its type, bounds and default; {@code ForgetJobRequest}
 * is one of them. What {@link ForgetJobSpec#parse} accepts is exactly this.
 */
final class ForgetJobSchema {

    private ForgetJobSchema() {
    }

    /** The schema name of one method's request. */
    static String name(Method m) {
        return "ForgetJob_" + m.id();
    }

    /** Adds the per-method schemas to {@code doc} and makes ForgetJobRequest one of them. */
    static void install(ObjectNode doc) {
        ObjectNode schemas = (ObjectNode) doc.path("components").path("schemas");
        JsonNode run = schemas.path("ForgetJobRunFields").path("properties");
        if (!run.isObject()) {
            throw new IllegalStateException("openapi.json has no ForgetJobRunFields");
        }
        ArrayNode oneOf = Json.MAPPER.createArrayNode();
        for (Method m : Method.values()) {
            ObjectNode s = schemas.putObject(name(m));
            s.put("type", "object");
            s.put("description", m.id() + ": " + m.summary() + " (needs " + m.needs() + ")" + (m.baseline() ? "; a baseline" : ""));
            s.put("additionalProperties", false);
            ArrayNode required = s.putArray("required").add("model").add("forget");
            if (m != Method.SSD) {
                required.add("method"); // absent, the method is ssd
            }
            ObjectNode props = s.putObject("properties");
            for (String field : ForgetJobSpec.runFields(m)) {
                if (field.equals("method")) {
                    ObjectNode p = props.putObject("method");
                    p.put("const", m.id());
                    if (m == Method.SSD) {
                        p.put("default", m.id());
                    }
                } else {
                    props.set(field, run.path(field).deepCopy());
                }
                if (field.equals("estimator")) {
                    ((ObjectNode) props.get(field)).put("default", m.defaultEstimator().id());
                }
            }
            for (SettingField f : m.fields()) {
                props.set(f.name(), field(f, f.valueIn((Record) m.defaults())));
            }
            oneOf.addObject().put("$ref", "#/components/schemas/" + name(m));
        }
        ObjectNode request = schemas.putObject("ForgetJobRequest");
        request.put("description", "A forget job: the run-level fields and the chosen method's own settings, flat (one schema"
                + " per method, generated from the server's method registry); any other field is refused with 400");
        request.set("oneOf", oneOf);
    }

    /** One settings field: type, bounds, accepted values, default. */
    static ObjectNode field(SettingField f, Object defaultValue) {
        Setting s = f.setting();
        ObjectNode p = Json.MAPPER.createObjectNode();
        ObjectNode typed = p;
        if (s.auto()) {
            ArrayNode any = p.putArray("oneOf");
            typed = any.addObject();
            any.addObject().put("const", "auto");
        }
        if (f.numeric()) {
            typed.put("type", f.integral() ? "integer" : "number");
            if (Double.isFinite(s.minimum())) {
                put(typed, s.exclusiveMinimum() ? "exclusiveMinimum" : "minimum", s.minimum(), f.integral());
            }
            if (Double.isFinite(s.maximum())) {
                put(typed, s.exclusiveMaximum() ? "exclusiveMaximum" : "maximum", s.maximum(), f.integral());
            }
        } else if (f.type() == boolean.class || f.type() == Boolean.class) {
            typed.put("type", "boolean");
        } else {
            typed.put("type", "string");
            if (s.values().length > 0) {
                ArrayNode values = typed.putArray("enum");
                for (String v : s.values()) {
                    values.add(v);
                }
            }
        }
        String doc = s.doc() + (f.type() == Path.class ? "; a file under the allowed root" : "");
        if (defaultValue != null) {
            p.set("default", Json.MAPPER.valueToTree(defaultValue instanceof Float x ? Double.valueOf(Float.toString(x)) : defaultValue));
        } else if (s.auto()) {
            p.put("default", "auto");
        } else if (!s.whenAbsent().isEmpty()) {
            doc += ". Default: " + s.whenAbsent();
        }
        p.put("description", doc);
        return p;
    }

    private static void put(ObjectNode o, String key, double v, boolean integral) {
        if (integral || v == Math.rint(v)) {
            o.put(key, (long) v);
        } else {
            o.put(key, v);
        }
    }
}
