package ai.lethe.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

import ai.lethe.io.LetheFormatException;

/**
 * What to forget: whole classes, listed training indices, or a random fraction. {@link #resolve} turns
 * it into a membership mask over the training set; Dr is the rest.
 */
public abstract sealed class ForgetSet permits ForgetSet.Classes, ForgetSet.Indices, ForgetSet.Random {

    /** A forget set resolved against one training set. */
    public record Resolved(String description, BitSet forget, int trainSize, int[] forgetClasses) {

        public boolean isForget(int index) {
            return forget.get(index);
        }

        public int forgetCount() {
            return forget.cardinality();
        }

        public int retainCount() {
            return trainSize - forgetCount();
        }

        /** Refuses a forget set that leaves nothing to retain: the retain set is what every method keeps. */
        public void requireRetained() throws LetheFormatException {
            if (retainCount() == 0) {
                throw new LetheFormatException("the retain set is empty: the forget set (" + description() + ") covers all "
                        + forgetCount() + " training samples");
            }
        }

        /** True for class forgetting: forget-test is then the test samples of these classes. */
        public boolean byClass() {
            return forgetClasses != null;
        }

        public boolean isForgetClass(int label) {
            if (forgetClasses == null) {
                return false;
            }
            for (int c : forgetClasses) {
                if (c == label) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Forget every training sample of these classes. */
    public static ForgetSet classes(int... classes) {
        if (classes.length == 0) {
            throw new IllegalArgumentException("name at least one class to forget");
        }
        return new Classes(Arrays.stream(classes).distinct().sorted().toArray());
    }

    /** Forget these training indices (0-based, file order). */
    public static ForgetSet indices(int... indices) {
        return new Indices(indices.clone(), "indices");
    }

    /** Reads one training index per line (blank lines and lines starting with # are ignored). */
    public static ForgetSet indicesFile(Path file) throws IOException {
        List<Integer> out = new ArrayList<>();
        if (Files.isDirectory(file)) {
            throw new ai.lethe.io.LetheFormatException(file + " is a directory, not a file of training indices");
        }
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                String t = line.strip();
                if (t.isEmpty() || t.startsWith("#")) {
                    continue;
                }
                try {
                    out.add(Integer.parseInt(t));
                } catch (NumberFormatException e) {
                    throw new LetheFormatException(file + ":" + lineNo + ": not a training index: '"
                            + (t.length() > 40 ? t.substring(0, 40) + "…" : t).replaceAll("\\p{Cntrl}", "?") + "'");
                }
            }
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new LetheFormatException(file + " is not a text file of training indices (not UTF-8)");
        }
        return new Indices(out.stream().mapToInt(Integer::intValue).toArray(), file.toString());
    }

    /** Forget round(fraction·N) training samples drawn uniformly without replacement from the seed. */
    public static ForgetSet random(double fraction, long seed) {
        if (!(fraction > 0 && fraction < 1)) {
            throw ai.lethe.InvalidSettingException.about("{forget_random} must be a fraction strictly between 0 and 1, got " + fraction);
        }
        return new Random(fraction, seed);
    }

    /** Resolves against the training labels; numClasses bounds the class numbers. */
    public abstract Resolved resolve(int[] trainLabels, int numClasses) throws LetheFormatException;

    static final class Classes extends ForgetSet {
        private final int[] classes;

        Classes(int[] classes) {
            this.classes = classes;
        }

        @Override
        public String toString() {
            return "class" + (classes.length > 1 ? "es " : " ") + Arrays.stream(classes).mapToObj(Integer::toString).collect(Collectors.joining(","));
        }

        @Override
        public Resolved resolve(int[] labels, int numClasses) throws LetheFormatException {
            for (int c : classes) {
                if (c < 0 || c >= numClasses) {
                    throw new LetheFormatException("forget class " + c + " is out of range: the model has " + numClasses
                            + " classes (0.." + (numClasses - 1) + ")");
                }
            }
            BitSet forget = new BitSet(labels.length);
            for (int i = 0; i < labels.length; i++) {
                for (int c : classes) {
                    if (labels[i] == c) {
                        forget.set(i);
                    }
                }
            }
            String what = "class" + (classes.length > 1 ? "es " : " ")
                    + Arrays.stream(classes).mapToObj(Integer::toString).collect(Collectors.joining(","));
            if (forget.isEmpty()) {
                throw new LetheFormatException("the forget set is empty: no training sample of " + what + " among the "
                        + labels.length + " training samples");
            }
            return new Resolved(what, forget, labels.length, classes.clone());
        }
    }

    static final class Indices extends ForgetSet {
        private final int[] indices;
        private final String source;

        Indices(int[] indices, String source) {
            this.indices = indices;
            this.source = source;
        }

        @Override
        public String toString() {
            return indices.length + " indices from " + source;
        }

        @Override
        public Resolved resolve(int[] labels, int numClasses) throws LetheFormatException {
            BitSet forget = new BitSet(labels.length);
            for (int i : indices) {
                if (i < 0 || i >= labels.length) {
                    throw new LetheFormatException("forget index " + i + " (from " + source + ") is out of range: the training set has "
                            + labels.length + " samples (0.." + (labels.length - 1) + ")");
                }
                forget.set(i);
            }
            if (forget.isEmpty()) {
                throw new LetheFormatException("the forget set is empty: " + source + " lists no training index");
            }
            if (forget.cardinality() == labels.length) {
                throw new LetheFormatException("the forget set covers the whole training set: nothing would be retained");
            }
            return new Resolved(forget.cardinality() + " indices from " + source, forget, labels.length, null);
        }
    }

    static final class Random extends ForgetSet {
        private final double fraction;
        private final long seed;

        Random(double fraction, long seed) {
            this.fraction = fraction;
            this.seed = seed;
        }

        @Override
        public String toString() {
            return "random " + fraction + " (seed " + seed + ")";
        }

        @Override
        public Resolved resolve(int[] labels, int numClasses) throws LetheFormatException {
            int n = labels.length;
            int k = (int) Math.round(fraction * n);
            if (k == 0) {
                throw new LetheFormatException("the forget set is empty: " + fraction + " of " + n + " samples rounds to 0");
            }
            // Partial Fisher-Yates: the first k slots of a seeded shuffle.
            int[] order = new int[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            SplittableRandom r = new SplittableRandom(seed);
            BitSet forget = new BitSet(n);
            for (int i = 0; i < k; i++) {
                int j = i + r.nextInt(n - i);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
                forget.set(order[i]);
            }
            return new Resolved("random " + fraction + " (" + k + " samples, seed " + seed + ")", forget, n, null);
        }
    }
}
