package ai.lethe.method;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.lethe.importance.Importance;

/**
 * What a method did, for the report: how many parameter elements it changed, the importances it computed
 * (null where it has none), phase timings, notes for the user and method-specific details.
 */
public final class Outcome {

    long changed;
    Double largestRatio;
    String importanceFullSource;
    Importance importanceFull;
    Importance importanceForget;
    double importanceFullSeconds;
    double importanceForgetSeconds;
    final List<String> notes = new ArrayList<>();
    final Map<String, Object> details = new LinkedHashMap<>();

    public long changed() {
        return changed;
    }

    public Double largestRatio() {
        return largestRatio;
    }

    public String importanceFullSource() {
        return importanceFullSource;
    }

    public Importance importanceFull() {
        return importanceFull;
    }

    public Importance importanceForget() {
        return importanceForget;
    }

    public double importanceFullSeconds() {
        return importanceFullSeconds;
    }

    public double importanceForgetSeconds() {
        return importanceForgetSeconds;
    }

    public List<String> notes() {
        return notes;
    }

    public Map<String, Object> details() {
        return details;
    }
}
