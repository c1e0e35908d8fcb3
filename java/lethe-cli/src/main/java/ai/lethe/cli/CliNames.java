package ai.lethe.cli;

import ai.lethe.method.Method;
import ai.lethe.method.SettingField;

/** How the CLI names what the core calls by field name: its options, and values as a user writes them. */
final class CliNames {

    private CliNames() {
    }

    /** The option of a core field name: a method setting's generated option, else --NAME in kebab case. */
    static String option(String field) {
        for (Method m : Method.values()) {
            for (SettingField f : m.fields()) {
                if (f.name().equals(field)) {
                    return f.option();
                }
            }
        }
        return "--" + field.replace('_', '-');
    }

    /** A value as a user writes it: whole numbers without ".0", floats without their binary tail. */
    static String value(Object v) {
        if (v instanceof Float f) {
            return number(Double.parseDouble(Float.toString(f)));
        }
        if (v instanceof Number n) {
            return number(n.doubleValue());
        }
        return String.valueOf(v);
    }

    private static String number(double v) {
        // whole numbers without ".0", as long as a long holds them exactly (1e30 stays 1.0E30)
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.valueOf(v);
    }
}
