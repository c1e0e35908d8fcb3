package ai.lethe.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

import ai.lethe.io.LetheFormatException;
import ai.lethe.io.SafetensorsFile;
import ai.lethe.io.SafetensorsWriter;

/**
 * Mnemonic codes (docs/algorithms.md, section 3.3): one fixed random tensor per class with
 * the input's shape, drawn once from a seed (uniform U[0,1) as the reference code draws them, or N(0,1) as the
 * paper says) and never normalised. During training each sample is replaced by its class's code with
 * probability t_mix; forgetting needs the very same codes, so they travel with the model: in its metadata and
 * in a file beside it ({@code MODEL.codes.safetensors}).
 */
public final class MnemonicCodes {

    private final float[][] codes;
    private final int[] sampleShape;
    private final long seed;
    private final String distribution;
    private final double tMix;

    private MnemonicCodes(float[][] codes, int[] sampleShape, long seed, String distribution, double tMix) {
        this.codes = codes;
        this.sampleShape = sampleShape.clone();
        this.seed = seed;
        this.distribution = distribution;
        this.tMix = tMix;
    }

    /** Draws one code per class from the seed; {@code distribution} is uniform or normal. */
    public static MnemonicCodes draw(int classes, int[] sampleShape, long seed, String distribution, double tMix) {
        String d = distribution.toLowerCase(Locale.ROOT);
        if (!d.equals("uniform") && !d.equals("normal")) {
            throw new ai.lethe.InvalidSettingException("--code-distribution must be uniform or normal, got '" + distribution + "'");
        }
        if (!(tMix >= 0 && tMix <= 1)) {
            throw new ai.lethe.InvalidSettingException("--t-mix must be within [0, 1], got " + tMix);
        }
        int per = Arrays.stream(sampleShape).reduce(1, (a, b) -> a * b);
        SplittableRandom r = new SplittableRandom(seed);
        float[][] codes = new float[classes][per];
        for (float[] c : codes) {
            for (int i = 0; i < per; i++) {
                c[i] = d.equals("uniform") ? (float) r.nextDouble() : (float) gaussian(r);
            }
        }
        return new MnemonicCodes(codes, sampleShape, seed, d, tMix);
    }

    private static double gaussian(SplittableRandom r) {
        double u = r.nextDouble(Double.MIN_VALUE, 1);
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    public int classes() {
        return codes.length;
    }

    public int[] sampleShape() {
        return sampleShape.clone();
    }

    public long seed() {
        return seed;
    }

    public String distribution() {
        return distribution;
    }

    public double tMix() {
        return tMix;
    }

    /** The code of class c (shared: do not modify). */
    public float[] code(int c) {
        return codes[c];
    }

    /** The codes of the given classes as one batch (label = class). */
    public Batch batch(int... classes) {
        int per = codes[0].length;
        float[] x = new float[classes.length * per];
        for (int i = 0; i < classes.length; i++) {
            System.arraycopy(codes[classes[i]], 0, x, i * per, per);
        }
        return new Batch(x, classes.clone(), classes.clone(), classes.length, sampleShape);
    }

    /**
     * The training-time substitution: with probability t_mix, drawn from {@code r} at every access, the sample
     * becomes its class's code (labels stay).
     */
    public BatchStream.SampleTransform mixer(SplittableRandom r) {
        return (index, label, x, offset) -> {
            if (r.nextDouble() < tMix) {
                System.arraycopy(codes[label], 0, x, offset, codes[label].length);
            }
        };
    }

    // ---- storage --------------------------------------------------------------------------------

    private static final String KEY = "lethe.mnemonic.";

    /** Metadata entries that hold the codes (base64 of little-endian float32) and how they were made. */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(KEY + "classes", Integer.toString(codes.length));
        m.put(KEY + "shape", Arrays.toString(sampleShape));
        m.put(KEY + "seed", Long.toString(seed));
        m.put(KEY + "distribution", distribution);
        m.put(KEY + "t_mix", Double.toString(tMix));
        ByteBuffer b = ByteBuffer.allocate(codes.length * codes[0].length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] c : codes) {
            for (float v : c) {
                b.putFloat(v);
            }
        }
        m.put(KEY + "codes", Base64.getEncoder().encodeToString(b.array()));
        return m;
    }

    /** The codes stored in a model's metadata, or null when it has none. */
    public static MnemonicCodes fromMetadata(Map<String, String> m) throws LetheFormatException {
        if (!m.containsKey(KEY + "codes")) {
            return null;
        }
        try {
            int classes = Integer.parseInt(m.get(KEY + "classes"));
            int[] shape = Arrays.stream(m.get(KEY + "shape").replaceAll("[\\[\\] ]", "").split(",")).mapToInt(Integer::parseInt).toArray();
            int per = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(m.get(KEY + "codes"))).order(ByteOrder.LITTLE_ENDIAN);
            if (b.remaining() != classes * per * 4) {
                throw new IllegalArgumentException("codes hold " + b.remaining() + " bytes, expected " + classes * per * 4);
            }
            float[][] codes = new float[classes][per];
            for (float[] c : codes) {
                for (int i = 0; i < per; i++) {
                    c[i] = b.getFloat();
                }
            }
            return new MnemonicCodes(codes, shape, Long.parseLong(m.get(KEY + "seed")), m.get(KEY + "distribution"),
                    Double.parseDouble(m.get(KEY + "t_mix")));
        } catch (RuntimeException e) {
            throw new LetheFormatException("corrupt mnemonic codes in the model's metadata (" + e.getMessage() + ")");
        }
    }

    /** Where the codes of a model file are kept beside it. */
    public static Path besideModel(Path model) {
        return model.resolveSibling(model.getFileName() + ".codes.safetensors");
    }

    /** Writes the codes as a safetensors file (tensor "codes" [classes, ...shape]), atomically. */
    public void save(Path path) throws IOException {
        long[] shape = new long[sampleShape.length + 1];
        shape[0] = codes.length;
        for (int i = 0; i < sampleShape.length; i++) {
            shape[i + 1] = sampleShape[i];
        }
        float[] all = new float[codes.length * codes[0].length];
        for (int c = 0; c < codes.length; c++) {
            System.arraycopy(codes[c], 0, all, c * codes[0].length, codes[0].length);
        }
        Map<String, String> meta = new LinkedHashMap<>(toMetadata());
        meta.remove(KEY + "codes");
        new SafetensorsWriter().metadata(meta).addFloats("codes", shape, all).write(path);
    }

    /** Reads codes written by {@link #save}. */
    public static MnemonicCodes load(Path path) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            SafetensorsFile.Entry e = f.entry("codes");
            long[] s = e.shape();
            if (s.length < 2) {
                throw new LetheFormatException(path + ": codes need a shape [classes, ...], found " + Arrays.toString(s));
            }
            int[] shape = new int[s.length - 1];
            for (int i = 1; i < s.length; i++) {
                shape[i - 1] = (int) s[i];
            }
            float[] all = f.readFloats("codes");
            int per = all.length / (int) s[0];
            float[][] codes = new float[(int) s[0]][];
            for (int c = 0; c < codes.length; c++) {
                codes[c] = Arrays.copyOfRange(all, c * per, (c + 1) * per);
            }
            Map<String, String> m = f.metadata();
            return new MnemonicCodes(codes, shape, Long.parseLong(m.getOrDefault(KEY + "seed", "0")),
                    m.getOrDefault(KEY + "distribution", "uniform"), Double.parseDouble(m.getOrDefault(KEY + "t_mix", "0")));
        }
    }

    /** The codes of a model: its metadata, else the file beside it; null when there are none. */
    public static MnemonicCodes of(ai.lethe.model.Model model, Path modelPath) throws IOException {
        MnemonicCodes c = fromMetadata(model.metadata());
        if (c != null) {
            return c;
        }
        if (modelPath != null && Files.isRegularFile(besideModel(modelPath))) {
            return load(besideModel(modelPath));
        }
        return null;
    }
}
