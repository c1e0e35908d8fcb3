package ai.lethe.server;

import java.util.Locale;

import com.fasterxml.jackson.annotation.JsonValue;

/** Where a job is in its life: queued → running → succeeded | failed | cancelled. */
enum JobState {
    QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

    /** True once nothing will change the job any more. */
    boolean terminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    @JsonValue
    String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    static JobState parse(String s) {
        for (JobState state : values()) {
            if (state.id().equals(s)) {
                return state;
            }
        }
        throw ApiException.badRequest("unknown job state '" + s + "' (expected queued, running, succeeded, failed or cancelled)");
    }
}
