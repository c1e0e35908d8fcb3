package ai.lethe.method;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import ai.lethe.InvalidSettingException;

/**
 * One field of a settings record, read from its {@link Setting} annotation: what the CLI, the service and the
 * OpenAPI document are generated from. A component whose type is itself a record (the training settings inside
 * DeepClean's) contributes its fields flat, so a client writes {@code "epochs"}, not {@code "training.epochs"}.
 *
 * @param name the field's name in snake case: the JSON field, the report key and the name in messages
 * @param path the record components that lead to it (one for a top-level field)
 */
public record SettingField(String name, List<String> path, Class<?> type, Setting setting) {

    private static final Map<Class<?>, List<SettingField>> CACHE = new ConcurrentHashMap<>();

    /** The fields of a settings record, in declaration order (nested records flattened). */
    public static List<SettingField> of(Class<? extends Record> type) {
        return CACHE.computeIfAbsent(type, t -> List.copyOf(collect(t, List.of())));
    }

    private static List<SettingField> collect(Class<?> type, List<String> prefix) {
        List<SettingField> out = new ArrayList<>();
        for (RecordComponent c : type.getRecordComponents()) {
            List<String> path = new ArrayList<>(prefix);
            path.add(c.getName());
            if (c.getType().isRecord()) {
                out.addAll(collect(c.getType(), path));
                continue;
            }
            Setting s = c.getAnnotation(Setting.class);
            if (s == null) {
                throw new IllegalStateException(type.getSimpleName() + "." + c.getName() + " has no @Setting");
            }
            out.add(new SettingField(snake(c.getName()), List.copyOf(path), c.getType(), s));
        }
        return out;
    }

    /** The CLI option that sets this field. */
    public String option() {
        return setting.option().isEmpty() ? "--" + name.replace('_', '-') : setting.option();
    }

    /** The CLI option's names: the option and its aliases. */
    public String[] optionNames() {
        String[] names = new String[1 + setting.aliases().length];
        names[0] = option();
        System.arraycopy(setting.aliases(), 0, names, 1, setting.aliases().length);
        return names;
    }

    /** A whole number (int or Integer). */
    public boolean integral() {
        return type == int.class || type == Integer.class;
    }

    /** A number of any kind. */
    public boolean numeric() {
        return integral() || type == float.class || type == Float.class || type == double.class || type == Double.class;
    }

    /** The field may be null (boxed numbers, paths and strings). */
    public boolean nullable() {
        return !type.isPrimitive();
    }

    /** This field's value in {@code settings}. */
    public Object valueIn(Record settings) {
        Object v = settings;
        for (String component : path) {
            v = component(v, component);
        }
        return v;
    }

    /**
     * A value of this field's type from what a front end parsed: a number, a string (a path, a word), a boolean,
     * or text as typed on the command line. The word {@code auto} means null where the field takes it.
     */
    public Object coerce(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof String s && setting.auto() && s.strip().equalsIgnoreCase("auto")) {
            return null;
        }
        if (numeric()) {
            Number n;
            if (value instanceof Number num) {
                n = num;
            } else if (value instanceof String s) {
                try {
                    n = integral() ? (Number) Long.valueOf(s.strip()) : (Number) Double.valueOf(s.strip());
                } catch (NumberFormatException e) {
                    throw InvalidSettingException.about("{" + name + "} must be " + (integral() ? "an integer" : "a number")
                            + (setting.auto() ? " or 'auto'" : "") + ", got '" + s + "'");
                }
            } else {
                throw wrongType(value);
            }
            if (integral()) {
                double d = n.doubleValue();
                if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
                    throw InvalidSettingException.about("{" + name + "} must be an integer, got " + n);
                }
                return (int) d;
            }
            return type == float.class || type == Float.class ? (Object) n.floatValue() : (Object) n.doubleValue();
        }
        if (type == Path.class) {
            return value instanceof Path p ? p : Path.of(String.valueOf(value));
        }
        if (type == String.class) {
            if (!(value instanceof String s)) {
                throw wrongType(value);
            }
            return s;
        }
        if (type == boolean.class || type == Boolean.class) {
            if (value instanceof Boolean b) {
                return b;
            }
            if (value instanceof String s && (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false"))) {
                return Boolean.parseBoolean(s);
            }
            throw wrongType(value);
        }
        throw new IllegalStateException("unsupported setting type " + type);
    }

    private InvalidSettingException wrongType(Object value) {
        return InvalidSettingException.about("{" + name + "} has the wrong type: expected " + (integral() ? "an integer"
                : numeric() ? "a number" : type == boolean.class || type == Boolean.class ? "true or false" : "a string")
                + ", got " + value);
    }

    /**
     * {@code base} with the given fields replaced (by name), built through its constructor, so the result is
     * checked as any settings are; a name that is not a field of {@code base} is refused.
     */
    @SuppressWarnings("unchecked")
    public static <T extends Record> T with(T base, Map<String, ?> values) {
        Map<String, SettingField> byName = new LinkedHashMap<>();
        for (SettingField f : of(base.getClass())) {
            byName.put(f.name, f);
        }
        Map<List<String>, Object> byPath = new LinkedHashMap<>();
        values.forEach((name, v) -> {
            SettingField f = byName.get(name);
            if (f == null) {
                throw InvalidSettingException.about("{" + name + "} is not a setting of these settings (its settings: "
                        + String.join(", ", byName.keySet()) + ")");
            }
            byPath.put(f.path, f.coerce(v));
        });
        return (T) rebuild(base, List.of(), byPath);
    }

    private static Object rebuild(Object record, List<String> prefix, Map<List<String>, Object> values) {
        RecordComponent[] components = record.getClass().getRecordComponents();
        Object[] args = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        boolean changed = false;
        for (int i = 0; i < components.length; i++) {
            RecordComponent c = components[i];
            types[i] = c.getType();
            List<String> path = new ArrayList<>(prefix);
            path.add(c.getName());
            Object current = component(record, c.getName());
            if (c.getType().isRecord()) {
                args[i] = rebuild(current, path, values);
                changed |= args[i] != current;
            } else if (values.containsKey(path)) {
                args[i] = values.get(path);
                if (args[i] == null && c.getType().isPrimitive()) {
                    throw InvalidSettingException.about("{" + snake(c.getName()) + "} needs a value");
                }
                changed = true;
            } else {
                args[i] = current;
            }
        }
        if (!changed) {
            return record;
        }
        try {
            Constructor<?> canonical = record.getClass().getDeclaredConstructor(types);
            canonical.setAccessible(true);
            return canonical.newInstance(args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object component(Object record, String name) {
        try {
            var accessor = record.getClass().getDeclaredMethod(name);
            accessor.setAccessible(true);
            return accessor.invoke(record);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    static String snake(String camel) {
        StringBuilder b = new StringBuilder();
        for (char ch : camel.toCharArray()) {
            if (Character.isUpperCase(ch)) {
                b.append('_').append(Character.toLowerCase(ch));
            } else {
                b.append(ch);
            }
        }
        return b.toString().toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return name + " " + Arrays.toString(optionNames());
    }
}
