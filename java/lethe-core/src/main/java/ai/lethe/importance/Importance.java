package ai.lethe.importance;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import ai.lethe.io.LetheFormatException;
import ai.lethe.io.SafetensorsFile;
import ai.lethe.io.SafetensorsWriter;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.model.Model;
import ai.lethe.model.ParameterInfo;

/**
 * A diagonal importance (Fisher or its stand-in): one tensor per model parameter, kept as a partial sum
 * and a count (batches or samples), so that partial results computed on different machines or over
 * different shards merge by addition in any order. {@link #values()} is the normalised importance.
 */
public final class Importance {

    private final List<ParameterInfo> parameters;
    private final Storage storage;
    private final long count;
    private final Provenance provenance;
    private final Map<String, String> details;
    private float[][] values;

    /** Metadata key of the number of samples the sums cover (batch estimators count batches in {@link #count}). */
    public static final String SAMPLES = "samples";
    /** Metadata key of how the sums were computed (which per-sample path ran), for reports. */
    public static final String COMPUTATION = "computation";
    /** Details key: how many parallel workers computed the sum (absent = one). */
    public static final String WORKERS = "workers";

    public Importance(List<ParameterInfo> parameters, float[][] sums, long count, Provenance provenance) {
        this(parameters, new Storage(checkedSums(parameters, sums)), count, provenance, Map.of());
    }

    private Importance(List<ParameterInfo> parameters, Storage storage, long count, Provenance provenance,
                       Map<String, String> details) {
        this.parameters = List.copyOf(parameters);
        this.storage = storage;
        this.count = count;
        this.provenance = provenance;
        this.details = Map.copyOf(details);
    }

    private static float[][] checkedSums(List<ParameterInfo> parameters, float[][] sums) {
        if (parameters.size() != sums.length) {
            throw new IllegalArgumentException(sums.length + " sums for " + parameters.size() + " parameters");
        }
        for (int i = 0; i < sums.length; i++) {
            if (sums[i].length != parameters.get(i).numel()) {
                throw new IllegalArgumentException("sum " + i + " has " + sums[i].length + " values for " + parameters.get(i));
            }
        }
        return sums;
    }

    /**
     * An importance whose sums stay in {@code kernels}' memory (on a GPU: the device) until something reads them on the
     * host ({@link #sums()}, {@link #values()}, {@link #save}) or {@link #toHost()} moves them; {@link #valuesOn} of the
     * same kernels normalises them there without a transfer. Takes ownership of {@code sums}.
     */
    public static Importance resident(List<ParameterInfo> parameters, Kernels kernels, TensorList sums, long count,
                                      Provenance provenance, Map<String, String> details) {
        if (parameters.size() != sums.count()) {
            sums.close();
            throw new IllegalArgumentException(sums.count() + " sums for " + parameters.size() + " parameters");
        }
        for (int i = 0; i < sums.count(); i++) {
            if (sums.size(i) != parameters.get(i).numel()) {
                sums.close();
                throw new IllegalArgumentException("sum " + i + " has " + sums.size(i) + " values for " + parameters.get(i));
            }
        }
        return new Importance(parameters, new Storage(kernels, sums), count, provenance, details);
    }

    /**
     * Where the sums are: on the host, or in one back end's memory (downloaded once when the host needs them, freed
     * by {@link #toHost}). Shared by the copies {@link #withDetails} makes, which hold the same sums.
     */
    private static final class Storage {
        private float[][] host;
        private Kernels kernels;
        private TensorList resident;

        Storage(float[][] host) {
            this.host = host;
        }

        Storage(Kernels kernels, TensorList resident) {
            this.kernels = kernels;
            this.resident = resident;
        }

        synchronized float[][] host() {
            if (host == null) {
                host = kernels.download(resident);
            }
            return host;
        }

        synchronized boolean residentOn(Kernels k) {
            return resident != null && kernels.unwrap() == k.unwrap();
        }

        /** The sums divided by {@code divisor} in a new list of {@code k}, or null when they are not resident there. */
        synchronized TensorList normalisedOn(Kernels k, float divisor) {
            if (!residentOn(k)) {
                return null;
            }
            TensorList out = k.allocate(resident.sizes());
            try {
                k.divide(out, resident, divisor);
                return out;
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
        }

        synchronized void release() {
            if (resident != null) {
                host();
                resident.close();
                resident = null;
                kernels = null;
            }
        }
    }

    /**
     * Further provenance written into the file's metadata beside {@link Provenance}'s: the sample count
     * ({@link #SAMPLES}), how the sums were computed ({@link #COMPUTATION}), and for a distributed pass how D was
     * cut and where it ran. Informational: a stored importance is accepted or refused by its {@link Provenance}.
     */
    public Map<String, String> details() {
        return details;
    }

    /** This importance with {@code more} added to its {@link #details()} (same sums, not copied). */
    public Importance withDetails(Map<String, String> more) {
        Map<String, String> d = new TreeMap<>(details);
        for (Map.Entry<String, String> e : more.entrySet()) {
            if (Provenance.RESERVED_KEYS.contains(e.getKey())) {
                throw new IllegalArgumentException("'" + e.getKey() + "' is provenance, not a detail");
            }
            d.put(e.getKey(), e.getValue());
        }
        return new Importance(parameters, storage, count, provenance, d);
    }

    /** The number of samples the sums cover, when recorded (-1 otherwise). */
    public long samples() {
        String v = details.get(SAMPLES);
        return v == null ? -1 : Long.parseLong(v);
    }

    /** How the sums were computed (for example which per-sample path ran), or null when not recorded. */
    public String computation() {
        return details.get(COMPUTATION);
    }

    public List<ParameterInfo> parameters() {
        return parameters;
    }

    public Provenance provenance() {
        return provenance;
    }

    /** Number of batches (batch estimators) or samples (per-sample) the sums cover. */
    public long count() {
        return count;
    }

    /** The unnormalised partial sums on the host (shared, not copied: do not modify; downloaded once if resident). */
    public float[][] sums() {
        return storage.host();
    }

    /** True while the sums are in {@code kernels}' memory, so {@link #valuesOn} of them needs no transfer. */
    public boolean residentOn(Kernels kernels) {
        return storage.residentOn(kernels);
    }

    /**
     * The importance as a new list in {@code kernels}' memory, owned by the caller: normalised where the sums are when
     * they are resident there (the {@code divide} kernel, the same fp32 division as {@link #values()}), else
     * uploaded from the host.
     */
    public TensorList valuesOn(Kernels kernels) {
        TensorList onDevice = storage.normalisedOn(kernels, (float) count);
        return onDevice != null ? onDevice : kernels.upload(values());
    }

    /** Moves resident sums to the host and frees their device memory (nothing if they are on the host already). */
    public void toHost() {
        storage.release();
    }

    /** The importance: each sum divided by the count, in fp32 as the reference divides (computed once; do not modify). */
    public synchronized float[][] values() {
        if (values != null) {
            return values;
        }
        float[][] sums = sums();
        float[][] out = new float[sums.length][];
        float n = count;
        for (int t = 0; t < sums.length; t++) {
            out[t] = new float[sums[t].length];
            for (int j = 0; j < sums[t].length; j++) {
                out[t][j] = sums[t][j] / n;
            }
        }
        values = out;
        return out;
    }

    /** The sum of two partial importances of the same model and settings (for example two shards of D). */
    public Importance merge(Importance other) {
        if (!parameters.equals(other.parameters)) {
            throw new IllegalArgumentException("cannot merge importances of different parameter lists");
        }
        Provenance a = provenance;
        Provenance b = other.provenance;
        if (!a.modelFingerprint().equals(b.modelFingerprint()) || a.estimator() != b.estimator()
                || (a.estimator().dependsOnBatching() && a.batchSize() != b.batchSize())) {
            throw new IllegalArgumentException("cannot merge importances of different models or settings: "
                    + a.estimator() + "/" + a.batchSize() + " vs " + b.estimator() + "/" + b.batchSize());
        }
        float[][] sums = sums();
        float[][] otherSums = other.sums();
        float[][] merged = new float[sums.length][];
        for (int t = 0; t < sums.length; t++) {
            merged[t] = sums[t].clone();
            for (int j = 0; j < merged[t].length; j++) {
                merged[t][j] += otherSums[t][j];
            }
        }
        String data = a.data().equals(b.data()) ? a.data() : a.data() + " + " + b.data();
        Map<String, String> d = new TreeMap<>();
        if (samples() >= 0 && other.samples() >= 0) {
            d.put(SAMPLES, Long.toString(samples() + other.samples()));
        }
        String how = computation();
        String otherHow = other.computation();
        if (how == null || otherHow == null || !how.equals(otherHow)) {
            how = how == null ? otherHow : otherHow == null ? how : how + " + " + otherHow;
        }
        if (how != null) {
            d.put(COMPUTATION, how);
        }
        return new Importance(parameters, new Storage(merged), count + other.count,
                new Provenance(a.modelFingerprint(), a.estimator(), a.batchSize(), data, a.subset(), a.order(), a.forgetSet()), d);
    }

    /**
     * Writes the normalised importance (keys = parameter names, like the PyTorch reference's files) with the
     * provenance and the count in the metadata; atomically.
     */
    public void save(Path path) throws IOException {
        Map<String, String> metadata = new LinkedHashMap<>(provenance.toMetadata(count));
        metadata.putAll(details);
        SafetensorsWriter w = new SafetensorsWriter().metadata(metadata);
        float[][] v = values();
        for (int i = 0; i < parameters.size(); i++) {
            w.addFloats(parameters.get(i).name(), parameters.get(i).shape(), v[i]);
        }
        w.write(path);
    }

    /** Reads an importance written by {@link #save}; the partial sums are rebuilt as value × count. */
    public static Importance load(Path path) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            Provenance p;
            try {
                p = Provenance.fromMetadata(f.metadata(), path.toString());
            } catch (IllegalArgumentException e) {
                throw new LetheFormatException(e.getMessage());
            }
            long count;
            try {
                count = Long.parseLong(f.metadata().get("count"));
            } catch (RuntimeException e) {
                throw new LetheFormatException(path + ": importance metadata lacks a valid count");
            }
            List<ParameterInfo> params = new ArrayList<>();
            float[][] sums = new float[f.entries().size()][];
            int i = 0;
            for (SafetensorsFile.Entry e : f.entries()) {
                params.add(new ParameterInfo(e.name(), e.shape()));
                float[] v = f.readFloats(e.name());
                for (int j = 0; j < v.length; j++) {
                    // Importances are means of squares or absolute values: anything else is a damaged file.
                    if (!(v[j] >= 0) || v[j] == Float.POSITIVE_INFINITY) {
                        throw new LetheFormatException(path + ": tensor " + e.name() + " holds " + v[j] + " at element " + j
                                + "; importances are finite and non-negative");
                    }
                    v[j] *= count;
                }
                sums[i++] = v;
            }
            Map<String, String> details = new TreeMap<>(f.metadata());
            details.keySet().removeAll(Provenance.RESERVED_KEYS);
            return new Importance(params, new Storage(sums), count, p, details);
        }
    }

    /** Reads plain safetensors importances (no Lethe metadata), as the PyTorch reference writes them, in the model's order. */
    public static float[][] readValues(Path path, List<ParameterInfo> parameters) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            float[][] out = new float[parameters.size()][];
            for (int i = 0; i < out.length; i++) {
                ParameterInfo p = parameters.get(i);
                SafetensorsFile.Entry e = f.entry(p.name());
                if (!java.util.Arrays.equals(e.shape(), p.shape())) {
                    throw new LetheFormatException(path + ": tensor " + p.name() + " has shape "
                            + java.util.Arrays.toString(e.shape()) + ", the model's is " + java.util.Arrays.toString(p.shape()));
                }
                out[i] = f.readFloats(p.name());
            }
            return out;
        }
    }

    /**
     * Refuses, with a one-line reason, an importance that was not computed for this model and these settings.
     * Returns a note (or null) for differences that do not invalidate it.
     */
    public String requireUsableAs(Model model, Estimator estimator, int batchSize, String data, String file) {
        Provenance p = provenance;
        if (!p.modelFingerprint().equals(model.fingerprint())) {
            throw new IllegalArgumentException(file + " was computed for another model (fingerprint "
                    + abbreviate(p.modelFingerprint()) + ", this model's is " + abbreviate(model.fingerprint()) + ")");
        }
        if (!parameters.equals(model.parameters())) {
            throw new IllegalArgumentException(file + " does not match the model's parameter names and shapes");
        }
        if (p.estimator() != estimator) {
            throw new IllegalArgumentException(file + " was computed with the " + p.estimator() + " estimator, this run uses "
                    + estimator);
        }
        if (estimator.dependsOnBatching() && p.batchSize() != batchSize) {
            throw new IllegalArgumentException(file + " was computed with batch size " + p.batchSize() + ", this run uses "
                    + batchSize + " (the " + estimator + " estimator depends on it)");
        }
        if (!p.data().equals(data)) {
            throw new IllegalArgumentException(file + " was computed on " + p.data() + ", this run uses " + data);
        }
        if (!p.subset().equals("full")) {
            throw new IllegalArgumentException(file + " holds the importance of the " + p.subset()
                    + " subset; a stored I_D must be the importance over the full training set (lethe fisher --subset full)");
        }
        return null;
    }

    private static String abbreviate(String fingerprint) {
        return fingerprint == null ? "none" : fingerprint.substring(0, Math.min(12, fingerprint.length())) + "…";
    }
}
