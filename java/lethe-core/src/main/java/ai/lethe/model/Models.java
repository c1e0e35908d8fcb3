package ai.lethe.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Opens a model file with the loader that understands it. TorchScript is one loader among others on
 * purpose: it is deprecated upstream, and architectures defined in Java (weights from safetensors) plug in
 * here beside it.
 */
public final class Models {

    /** Something that can open some model files. */
    public interface Loader {
        /** Whether this loader handles the file (by name or content). */
        boolean accepts(Path path);

        Model load(Path path) throws IOException;

        /** What it loads, for error messages, for example "TorchScript (.pt)". */
        String formats();
    }

    static final Loader TORCHSCRIPT = new Loader() {
        @Override
        public boolean accepts(Path path) {
            String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
            return name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".torchscript") || name.endsWith(".jit");
        }

        @Override
        public Model load(Path path) throws IOException {
            return TorchScriptModel.load(path);
        }

        @Override
        public String formats() {
            return "TorchScript (.pt, .pth)";
        }
    };

    static final Loader ZOO = new Loader() {
        @Override
        public boolean accepts(Path path) {
            return path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".safetensors");
        }

        @Override
        public Model load(Path path) throws IOException {
            return ai.lethe.model.zoo.ZooModel.load(path, null);
        }

        @Override
        public String formats() {
            return "Lethe zoo models (.safetensors with lethe.arch metadata, or a state_dict with --arch)";
        }
    };

    private static final List<Loader> LOADERS = List.of(TORCHSCRIPT, ZOO);

    private Models() {
    }

    /**
     * Opens a model; {@code arch} names the zoo architecture of a plain safetensors state_dict (null when the
     * file says it, or for TorchScript).
     */
    public static Model load(Path path, String arch) throws IOException {
        if (arch != null) {
            if (!ZOO.accepts(path)) {
                throw new ai.lethe.InvalidSettingException("--arch applies to safetensors state_dicts, not " + path.getFileName());
            }
            return ai.lethe.model.zoo.ZooModel.load(path, arch);
        }
        return load(path);
    }

    public static Model load(Path path) throws IOException {
        for (Loader l : LOADERS) {
            if (l.accepts(path)) {
                return l.load(path);
            }
        }
        StringBuilder formats = new StringBuilder();
        for (Loader l : LOADERS) {
            formats.append(formats.length() == 0 ? "" : ", ").append(l.formats());
        }
        throw new IllegalArgumentException("cannot open model " + path + ": unknown format (expected " + formats + ")");
    }
}
