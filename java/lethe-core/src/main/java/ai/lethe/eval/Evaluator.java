package ai.lethe.eval;

import java.io.IOException;
import java.util.Iterator;

import ai.lethe.data.Batch;
import ai.lethe.data.BatchStream;
import ai.lethe.data.Dataset;
import ai.lethe.data.ForgetSplit;
import ai.lethe.model.Model;
import ai.lethe.report.Progress;

/**
 * Accuracy on forget-train, retain-train, forget-test and retain-test, and the MIA: one pass over the
 * training set and one over the test set, no gradients.
 *
 * <p>Forget-test is the test samples of the forgotten classes; for sample (not class) forgetting there is no
 * such set and forget-test is the forget-train set, retain-test the whole test set. The MIA follows the SSD
 * code: feature = entropy of the softmax output; a balanced logistic regression learns retain-train (1) vs
 * the whole test set (0); MIA = the fraction of forget-train predicted 1.
 */
public final class Evaluator {

    private final int batchSize;
    private final Progress progress;

    public Evaluator(int batchSize, Progress progress) {
        this.batchSize = batchSize;
        this.progress = progress == null ? Progress.NONE : progress;
    }

    /** Growable list of doubles (entropies of one group of samples). */
    private static final class Doubles {
        double[] values = new double[1024];
        int size;

        void add(double v) {
            if (size == values.length) {
                values = java.util.Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        double[] toArray() {
            return java.util.Arrays.copyOf(values, size);
        }
    }

    /** Per-sample results of one pass, split into forget and retain samples. */
    private static final class Tally {
        int forgetCorrect;
        int retainCorrect;
        final Doubles forgetEntropy = new Doubles();
        final Doubles retainEntropy = new Doubles();

        int forget() {
            return forgetEntropy.size;
        }

        int retain() {
            return retainEntropy.size;
        }
    }

    public Metrics evaluate(Model model, ForgetSplit split, Dataset test, int[] testLabels) throws IOException {
        String previous = BatchStream.nameProducers("lethe-prefetch-eval");
        try (ai.lethe.profile.Profiler.Span s = ai.lethe.profile.Profiler.span("evaluate")) {
            return measure(model, split, test, testLabels);
        } finally {
            BatchStream.nameProducers(previous);
        }
    }

    private Metrics measure(Model model, ForgetSplit split, Dataset test, int[] testLabels) throws IOException {
        var forget = split.forgetSet();
        int classes = model.numClasses(split.train().sampleShape());
        Tally train = new Tally();
        try (BatchStream s = BatchStream.all(split.train(), split.labels(), batchSize)) {
            run(model, s, s.expectedBatches(), "evaluating on train", classes, train, forget::isForget);
        }
        Tally tst = new Tally();
        try (BatchStream s = BatchStream.all(test, testLabels, batchSize)) {
            run(model, s, s.expectedBatches(), "evaluating on test", classes, tst,
                    i -> forget.byClass() && forget.isForgetClass(testLabels[i]));
        }
        double forgetTrainAcc = ratio(train.forgetCorrect, train.forget());
        double forgetTestAcc = forget.byClass() ? ratio(tst.forgetCorrect, tst.forget()) : forgetTrainAcc;
        int forgetTestCount = forget.byClass() ? tst.forget() : train.forget();
        double[] testEntropy = java.util.stream.DoubleStream.concat(
                java.util.Arrays.stream(tst.retainEntropy.toArray()), java.util.Arrays.stream(tst.forgetEntropy.toArray())).toArray();
        double mia = mia(train.retainEntropy.toArray(), testEntropy, train.forgetEntropy.toArray());
        return new Metrics(forgetTrainAcc, ratio(train.retainCorrect, train.retain()), forgetTestAcc,
                ratio(tst.retainCorrect, tst.retain()), mia, train.forget(), train.retain(), forgetTestCount, tst.retain());
    }

    private void run(Model model, Iterator<Batch> batches, int expected, String label, int classes, Tally t,
                     java.util.function.IntPredicate isForget) {
        progress.start(label, expected, "batches");
        while (batches.hasNext()) {
            Batch b = batches.next();
            float[] logits = model.logits(b);
            for (int i = 0; i < b.size(); i++) {
                int correct = argmax(logits, i * classes, classes) == b.y()[i] ? 1 : 0;
                double h = entropy(logits, i * classes, classes);
                if (isForget.test(b.indices()[i])) {
                    t.forgetCorrect += correct;
                    t.forgetEntropy.add(h);
                } else {
                    t.retainCorrect += correct;
                    t.retainEntropy.add(h);
                }
            }
            progress.advance(1);
        }
        progress.finish();
    }

    /** Plain accuracy of a model on a whole dataset, counted per sample. */
    public double accuracy(Model model, Dataset data, int[] labels) {
        try (BatchStream s = BatchStream.all(data, labels, batchSize)) {
            return accuracy(model, s, data.sampleShape(), "accuracy on " + data.description());
        }
    }

    /** Accuracy over every batch of a stream (closed by the caller), counted per sample. */
    public double accuracy(Model model, BatchStream stream, int[] sampleShape, String label) {
        int classes = model.numClasses(sampleShape);
        int correct = 0;
        int total = 0;
        progress.start(label, stream.expectedBatches(), "batches");
        while (stream.hasNext()) {
            Batch b = stream.next();
            correct += correct(model.logits(b), b, classes);
            total += b.size();
            progress.advance(1);
        }
        progress.finish();
        return total == 0 ? Double.NaN : (double) correct / total;
    }

    /** Accuracy over batches held in memory (NaN when there are none), counted per sample. */
    public static double accuracy(Model model, Iterable<Batch> batches) {
        int correct = 0;
        int total = 0;
        for (Batch b : batches) {
            float[] logits = model.logits(b);
            correct += correct(logits, b, logits.length / b.size());
            total += b.size();
        }
        return total == 0 ? Double.NaN : (double) correct / total;
    }

    /** How many samples of {@code b} the logits (row-major, {@code classes} per sample) classify as labelled. */
    public static int correct(float[] logits, Batch b, int classes) {
        int correct = 0;
        for (int i = 0; i < b.size(); i++) {
            correct += argmax(logits, i * classes, classes) == b.y()[i] ? 1 : 0;
        }
        return correct;
    }

    /** Index of the largest of logits[from, from + n). */
    public static int argmax(float[] logits, int from, int n) {
        int best = 0;
        for (int c = 1; c < n; c++) {
            if (logits[from + c] > logits[from + best]) {
                best = c;
            }
        }
        return best;
    }

    /** Entropy of softmax(logits[from, from + n)), in nats, computed in double. */
    static double entropy(float[] logits, int from, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < n; c++) {
            max = Math.max(max, logits[from + c]);
        }
        double z = 0;
        for (int c = 0; c < n; c++) {
            z += Math.exp(logits[from + c] - max);
        }
        double h = 0;
        for (int c = 0; c < n; c++) {
            double p = Math.exp(logits[from + c] - max) / z;
            if (p > 0) {
                h -= p * Math.log(p);
            }
        }
        return h;
    }

    /** Fraction of forget-train samples that the attack, trained on retain-train (1) vs test (0), calls members. */
    static double mia(double[] retainTrain, double[] test, double[] forgetTrain) {
        if (retainTrain.length == 0 || test.length == 0 || forgetTrain.length == 0) {
            return Double.NaN;
        }
        double[] x = new double[retainTrain.length + test.length];
        int[] y = new int[x.length];
        System.arraycopy(retainTrain, 0, x, 0, retainTrain.length);
        System.arraycopy(test, 0, x, retainTrain.length, test.length);
        java.util.Arrays.fill(y, 0, retainTrain.length, 1);
        LogisticRegression attack = LogisticRegression.fit(x, y);
        int members = 0;
        for (double h : forgetTrain) {
            members += attack.predict(h);
        }
        return (double) members / forgetTrain.length;
    }

    private static double ratio(int correct, int total) {
        return total == 0 ? Double.NaN : (double) correct / total;
    }
}
