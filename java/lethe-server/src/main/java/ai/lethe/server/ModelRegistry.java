package ai.lethe.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.lethe.Lethe;
import ai.lethe.io.AtomicFiles;
import ai.lethe.model.Weights;

/**
 * Registers models: a candidate file (an upload, or a copy of a server-side file) is loaded before it is
 * accepted, so that a file that does not load is refused with the reason (422) instead of failing every job
 * later; then it is moved into models/ID/ and recorded with its fingerprint. Opens registered models for jobs.
 *
 * <p>Three kinds: a TorchScript module; safetensors weights (a PyTorch state_dict) for the architecture of a
 * registered TorchScript model, named as the base model; or a zoo model (a safetensors state_dict that names its
 * architecture in its metadata, as {@code lethe train} writes it), which needs no base model and is the kind the
 * methods that rebuild layers (rfa, retrain) need.
 */
final class ModelRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(ModelRegistry.class);

    static final String TORCHSCRIPT = "torchscript";
    static final String SAFETENSORS = "safetensors";

    /** What a client asks to register, besides the file itself. */
    record Registration(String name, String format, String baseModel) {
    }

    private final DataDirectory dir;
    private final JobStore store;

    ModelRegistry(DataDirectory dir, JobStore store) {
        this.dir = dir;
        this.store = store;
    }

    /**
     * Validates {@code candidate} (a file in tmp/ that this method takes over: it is moved or deleted) and
     * records it. {@code source} says where it came from, {@code defaultName} names it when the client did not.
     */
    StoredModel register(Path candidate, Registration r, String source, String defaultName) throws IOException {
        try {
            String format = r.format() == null ? sniff(candidate) : normaliseFormat(r.format());
            StoredModel base = null;
            if (format.equals(SAFETENSORS) && (r.baseModel() == null || r.baseModel().isBlank())) {
                if (zooArchitecture(candidate) == null) {
                    throw ApiException.badRequest("safetensors weights need 'base_model': the id of a registered TorchScript"
                            + " model with the same architecture (unless they are a zoo model whose metadata names its"
                            + " architecture, as 'lethe train' writes it)");
                }
            } else if (format.equals(SAFETENSORS)) {
                base = store.model(r.baseModel()).orElseThrow(() -> ApiException.notFound("no model '" + r.baseModel() + "'"));
                if (!base.format().equals(TORCHSCRIPT)) {
                    throw ApiException.badRequest("base model " + base.id() + " is itself safetensors weights; name the"
                            + " TorchScript model it is based on");
                }
            } else if (r.baseModel() != null) {
                throw ApiException.badRequest("'base_model' only applies to safetensors weights");
            }
            String id = Ids.model();
            // Models.load picks its loader by file name, so the candidate gets the stored name's suffix.
            Path named = candidate.resolveSibling(id + (format.equals(TORCHSCRIPT) ? ".pt" : ".safetensors"));
            Files.move(candidate, named);
            candidate = named;
            Loaded loaded = load(candidate, format, base, source);
            String file = DataDirectory.modelFile(id, format);
            Path target = dir.resolve(file);
            Files.createDirectories(target.getParent());
            AtomicFiles.move(candidate, target);
            StoredModel m = new StoredModel(id, r.name() == null || r.name().isBlank() ? defaultName : r.name().strip(),
                    format, file, base == null ? null : base.id(), source, loaded.fingerprint(), loaded.parameters(),
                    Files.size(target), JobStore.now());
            try {
                store.insertModel(m);
            } catch (RuntimeException e) {
                Files.deleteIfExists(target);
                Files.deleteIfExists(target.getParent());
                throw e;
            }
            LOG.info("registered {} ({} {}, {} parameters, fingerprint {})", m.id(), format, source, m.parameters(),
                    m.fingerprint().substring(0, 12));
            return m;
        } finally {
            Files.deleteIfExists(candidate);
        }
    }

    private record Loaded(String fingerprint, long parameters) {
    }

    /** Loads the candidate as a job would (on the scalar back end: no kernels run); a 422 with the reason if it fails. */
    private Loaded load(Path candidate, String format, StoredModel base, String source) {
        Path model = base == null ? candidate : dir.resolve(base.file());
        try (Lethe lethe = Lethe.load(model, "scalar")) {
            if (base != null) {
                Weights.LoadSummary s = lethe.loadWeights(candidate);
                if (!s.ignored().isEmpty()) {
                    LOG.info("{}: ignored {} tensors that are not parameters of the base model, e.g. {}", source,
                            s.ignored().size(), s.ignored().get(0));
                }
            }
            return new Loaded(lethe.model().fingerprint(), lethe.model().parameterCount());
        } catch (IOException | RuntimeException e) {
            if (e instanceof ApiException) {
                throw (ApiException) e;
            }
            String what = source.equals("upload") ? "the uploaded file" : source.substring(source.indexOf(':') + 1);
            throw ApiException.unprocessable("not a usable " + format + " model: "
                    + ApiErrors.message(e).replace(candidate.toString(), what));
        }
    }

    /** A zoo model: safetensors with no base model (its metadata names its architecture). */
    static boolean isZoo(StoredModel m) {
        return m.format().equals(SAFETENSORS) && m.baseModel() == null;
    }

    /** The zoo architecture a safetensors file names in its metadata, or null. */
    private static String zooArchitecture(Path file) {
        try (ai.lethe.io.SafetensorsFile f = ai.lethe.io.SafetensorsFile.open(file)) {
            return f.metadata().get("lethe.arch");
        } catch (IOException | RuntimeException e) {
            return null; // not readable as safetensors: loading it says why
        }
    }

    /**
     * Opens a registered model for a job: TorchScript and zoo models as they are, safetensors weights loaded into
     * their base model.
     */
    Lethe open(StoredModel m, String device) throws IOException {
        if (m.format().equals(TORCHSCRIPT) || isZoo(m)) {
            return Lethe.load(dir.resolve(m.file()), device);
        }
        StoredModel base = store.model(m.baseModel()).orElseThrow(() ->
                new IllegalStateException("base model " + m.baseModel() + " of " + m.id() + " is missing"));
        Lethe lethe = Lethe.load(dir.resolve(base.file()), device);
        try {
            lethe.loadWeights(dir.resolve(m.file()));
            return lethe;
        } catch (IOException | RuntimeException e) {
            lethe.close();
            throw e;
        }
    }

    /**
     * The format by content: TorchScript files are zip archives; safetensors files start with the 8-byte
     * little-endian length of a JSON header.
     */
    static String sniff(Path file) throws IOException {
        byte[] head = new byte[9];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return TORCHSCRIPT;
        }
        if (n == 9 && head[8] == '{') {
            long headerLength = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLength > 1 && headerLength < Files.size(file)) {
                return SAFETENSORS;
            }
        }
        throw ApiException.unprocessable("the file is neither a TorchScript model (a zip archive from torch.jit.save)"
                + " nor safetensors weights");
    }

    private static String normaliseFormat(String format) {
        String f = format.strip().toLowerCase(Locale.ROOT);
        if (f.equals(TORCHSCRIPT) || f.equals(SAFETENSORS)) {
            return f;
        }
        throw ApiException.badRequest("unknown format '" + format + "' (expected torchscript or safetensors)");
    }
}
