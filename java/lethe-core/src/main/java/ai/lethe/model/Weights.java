package ai.lethe.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.lethe.io.LetheFormatException;
import ai.lethe.io.SafetensorsFile;
import ai.lethe.io.SafetensorsWriter;

/**
 * A model's parameters as safetensors, keyed by PyTorch's parameter names: what {@code model.state_dict()}
 * saved with the safetensors library holds for them, so weights move between Lethe and Python unchanged.
 */
public final class Weights {

    /** What {@link #load} did: how many tensors it set, and the file's tensors it had no parameter for. */
    public record LoadSummary(int loaded, List<String> ignored) {
    }

    private Weights() {
    }

    /** Writes every parameter (F32), with the model's fingerprint in the metadata; atomically. */
    public static void save(Model model, Path path) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("lethe_model_fingerprint", model.fingerprint());
        meta.put("lethe_source", model.description());
        SafetensorsWriter w = new SafetensorsWriter().metadata(meta);
        float[][] values = model.readParameters();
        for (int i = 0; i < values.length; i++) {
            ParameterInfo p = model.parameters().get(i);
            w.addFloats(p.name(), p.shape(), values[i]);
        }
        w.write(path);
    }

    /**
     * Sets every parameter from the file. Every parameter must be present with its shape; tensors the model
     * has no parameter for (BatchNorm buffers of a state_dict, for example) are ignored and listed.
     */
    public static LoadSummary load(Model model, Path path) throws IOException {
        float[][] values = new float[model.parameters().size()][];
        List<String> ignored = new ArrayList<>();
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            ai.lethe.importance.Provenance.refuseImportance(f.metadata(), path, "weights");
            for (int i = 0; i < values.length; i++) {
                ParameterInfo p = model.parameters().get(i);
                if (!f.contains(p.name())) {
                    throw new LetheFormatException(path + " has no tensor for parameter " + p.name());
                }
                SafetensorsFile.Entry e = f.entry(p.name());
                if (!Arrays.equals(e.shape(), p.shape())) {
                    throw new LetheFormatException(path + ": " + p.name() + " has shape " + Arrays.toString(e.shape())
                            + ", the model's is " + Arrays.toString(p.shape()));
                }
                values[i] = f.readFloats(p.name());
            }
            for (SafetensorsFile.Entry e : f.entries()) {
                if (model.parameters().stream().noneMatch(p -> p.name().equals(e.name()))) {
                    ignored.add(e.name());
                }
            }
        }
        for (float[] v : values) {
            for (float x : v) {
                if (!Float.isFinite(x)) {
                    throw new LetheFormatException(path + " holds NaN or infinite weights");
                }
            }
        }
        model.writeParameters(values);
        return new LoadSummary(values.length, ignored);
    }

    /** True when the path names a safetensors file. */
    public static boolean isSafetensors(Path path) {
        return path.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".safetensors");
    }
}
