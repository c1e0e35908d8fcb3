package ai.lethe.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A training and a test split, as {@code --data} names them:
 * <ul>
 *   <li>{@code fashion-mnist}: the IDX files of Debian's dataset-fashion-mnist in /usr/share/datasets/fashion-mnist;</li>
 *   <li>{@code idx:DIR}: train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-... in DIR;</li>
 *   <li>{@code npy:DIR}: train_x.npy, train_y.npy, test_x.npy, test_y.npy in DIR;</li>
 *   <li>{@code safetensors:DIR}: train.safetensors and test.safetensors (tensors x and y) in DIR.</li>
 * </ul>
 *
 * @param spec  the --data value it was opened from
 * @param train the training split
 * @param test  the test split
 */
public record DataSource(String spec, Dataset train, Dataset test) {

    /** Where Debian's dataset-fashion-mnist package puts the files. */
    public static final Path FASHION_MNIST_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    public static final String FORMS = "fashion-mnist, idx:DIR, npy:DIR or safetensors:DIR";

    /** Opens the data named by {@code spec}; {@code trainLimit} > 0 keeps the first trainLimit training samples. */
    public static DataSource open(String spec, int trainLimit) throws IOException {
        DataSource d = open(spec);
        if (trainLimit > 0) {
            d = new DataSource(d.spec, d.train.limit(trainLimit), d.test);
        } else if (trainLimit < 0) {
            throw new ai.lethe.InvalidSettingException("--train-limit must be positive, got " + trainLimit);
        }
        if (!java.util.Arrays.equals(d.train.sampleShape(), d.test.sampleShape())) {
            throw new ai.lethe.io.LetheFormatException("train and test samples differ in shape: "
                    + java.util.Arrays.toString(d.train.sampleShape()) + " vs " + java.util.Arrays.toString(d.test.sampleShape()));
        }
        return d;
    }

    /**
     * The directory a spec reads its files from, resolved as {@link #open} resolves it, or null when the spec names
     * none (unknown form, no directory after the colon).
     */
    public static Path directory(String spec) {
        String s = spec.strip();
        String lower = s.toLowerCase(Locale.ROOT);
        if (isFashionMnist(lower)) {
            return FASHION_MNIST_DIR;
        }
        int colon = s.indexOf(':');
        if (colon <= 0 || !KINDS.contains(lower.substring(0, colon)) || s.substring(colon + 1).isBlank()) {
            return null;
        }
        // Absolute, so that descriptions (and the importance files that record them) name the same files
        // whatever the working directory; real, so that a symlinked directory is the same data.
        Path dir = Path.of(s.substring(colon + 1)).toAbsolutePath().normalize();
        try {
            return dir.toRealPath();
        } catch (IOException e) {
            return dir; // missing: the reader says so
        }
    }

    private static final java.util.Set<String> KINDS = java.util.Set.of("idx", "npy", "safetensors");

    private static boolean isFashionMnist(String lower) {
        return lower.equals("fashion-mnist") || lower.equals("fashion_mnist") || lower.equals("fmnist");
    }

    private static DataSource open(String spec) throws IOException {
        String s = spec.strip();
        String lower = s.toLowerCase(Locale.ROOT);
        if (isFashionMnist(lower)) {
            if (!Files.isDirectory(FASHION_MNIST_DIR)) {
                throw new NoSuchFileException(FASHION_MNIST_DIR.toString(), null,
                        "Fashion-MNIST is not installed; install it with: apt-get install dataset-fashion-mnist");
            }
            return idx("fashion-mnist", FASHION_MNIST_DIR);
        }
        int colon = s.indexOf(':');
        if (colon > 0 && s.substring(colon + 1).isBlank()) {
            throw new ai.lethe.InvalidSettingException("--data " + s + " names no directory (expected " + FORMS + ")");
        }
        Path dir = directory(s);
        if (dir != null) {
            return open(s, lower.substring(0, colon), dir, dir.toString());
        }
        throw new ai.lethe.InvalidSettingException("unknown --data '" + spec + "' (expected " + FORMS + ")");
    }

    /**
     * Opens the files of one form ({@code idx}, {@code npy} or {@code safetensors}) in {@code dir}, which may be a
     * path of any NIO file system (the Spark module reads HDFS and S3 this way); {@code location} names the
     * directory in descriptions.
     */
    public static DataSource open(String spec, String kind, Path dir, String location) throws IOException {
        switch (kind) {
            case "idx":
                return idx("idx:" + location, dir);
            case "npy":
                return new DataSource(spec, NpyDataset.open("npy:" + location + " train", dir.resolve("train_x.npy"), dir.resolve("train_y.npy")),
                        NpyDataset.open("npy:" + location + " test", dir.resolve("test_x.npy"), dir.resolve("test_y.npy")));
            case "safetensors":
                return new DataSource(spec, SafetensorsDataset.open("safetensors:" + location + " train", dir.resolve("train.safetensors")),
                        SafetensorsDataset.open("safetensors:" + location + " test", dir.resolve("test.safetensors")));
            default:
                throw new ai.lethe.InvalidSettingException("unknown data form '" + kind + "' (expected idx, npy or safetensors)");
        }
    }

    private static DataSource idx(String name, Path dir) throws IOException {
        return new DataSource(name,
                IdxDataset.open(name + " train", find(dir, "train-images-idx3-ubyte"), find(dir, "train-labels-idx1-ubyte")),
                IdxDataset.open(name + " test", find(dir, "t10k-images-idx3-ubyte"), find(dir, "t10k-labels-idx1-ubyte")));
    }

    private static Path find(Path dir, String base) throws NoSuchFileException {
        for (String candidate : new String[] {base + ".gz", base}) {
            Path p = dir.resolve(candidate);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new NoSuchFileException(dir.resolve(base + ".gz").toString(), null, "IDX file not found (also tried without .gz)");
    }

    /** Short description for reports, for example "fashion-mnist train[:2000] / test". */
    public String description() {
        return train.description() + " + " + test.description();
    }
}
