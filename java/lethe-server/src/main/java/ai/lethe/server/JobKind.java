package ai.lethe.server;

import java.util.Locale;

import com.fasterxml.jackson.annotation.JsonValue;

/** What a job computes: a forgotten model and its report, or a stored importance over the full training set. */
enum JobKind {
    FORGET, IMPORTANCE;

    @JsonValue
    String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    static JobKind parse(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
