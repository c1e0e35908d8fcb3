package ai.lethe.method;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.lethe.importance.Importance;

/**
 * What a method did, for the report: how many parameter elements it changed, the importances it computed
 * (null where it has none: I_D for SSD, I_r for DeepClean, I_f for both), phase timings, notes for the user,
 * the alpha SSD chose when it searched it, and method-specific details.
 */
public final class Outcome {

    long changed;
    Double largestRatio;
    String importanceFullSource;
    Importance importanceFull;
    Importance importanceRetain;
    Importance importanceForget;
    AlphaSearch alphaSearch;
    double importanceFullSeconds;
    double importanceForgetSeconds;
    final List<String> notes = new ArrayList<>();
    final Map<String, Object> details = new LinkedHashMap<>();

    /**
     * Writes the importances the method computed into {@code dir}, each named by what it covers:
     * importance_full (D), importance_retain (Dr, DeepClean) and importance_forget (Df).
     */
    public void saveImportances(java.nio.file.Path dir) throws java.io.IOException {
        if (importanceFull == null && importanceRetain == null && importanceForget == null) {
            return;
        }
        java.nio.file.Files.createDirectories(dir);
        for (Importance imp : new Importance[] {importanceFull, importanceRetain}) {
            if (imp != null) {
                imp.save(dir.resolve("importance_" + imp.provenance().subset() + ".safetensors"));
            }
        }
        if (importanceForget != null) {
            importanceForget.save(dir.resolve("importance_forget.safetensors"));
        }
    }

    /**
     * Moves the importances this run computed to the host and frees their device memory: they stay resident in the
     * kernels' memory through the update, and the caller may read them after the kernels are gone.
     */
    public void importancesToHost() {
        for (Importance imp : new Importance[] {importanceFull, importanceRetain, importanceForget}) {
            if (imp != null) {
                imp.toHost();
            }
        }
    }

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

    /** The importance over the retain set (DeepClean's I_r); null for the other methods. */
    public Importance importanceRetain() {
        return importanceRetain;
    }

    /** The search of {@code alpha = auto}; null when alpha was given. */
    public AlphaSearch alphaSearch() {
        return alphaSearch;
    }

    public Importance importanceForget() {
        return importanceForget;
    }

    /** Seconds of the first importance pass: over D, or over Dr for DeepClean. */
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
