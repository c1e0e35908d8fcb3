package ai.lethe.train;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntPredicate;

import ai.lethe.data.Batch;
import ai.lethe.data.BatchStream;
import ai.lethe.data.Dataset;
import ai.lethe.data.MnemonicCodes;
import ai.lethe.kernels.Kernels;
import ai.lethe.model.Loss;
import ai.lethe.model.Model;
import ai.lethe.report.Progress;

/**
 * Mini-batch SGD training of any {@link Model}: shuffled epochs read by random access (the data never has to
 * fit in memory), cross-entropy in train mode, the update through {@link Sgd}, optional mnemonic-code
 * substitution, a callback after every epoch (checkpoints). Used by {@code lethe train} and the retrain and
 * fine-tune baselines.
 */
public final class Trainer {

    /**
     * @param epochs      passes over the data
     * @param batchSize   samples per step
     * @param lr          base learning rate
     * @param momentum    SGD momentum
     * @param weightDecay L2 weight decay
     * @param schedule    how lr changes per epoch
     * @param seed        shuffling (and code substitution) seed
     */
    public record Settings(int epochs, int batchSize, float lr, float momentum, float weightDecay, Schedule schedule,
                           long seed) {
        public Settings {
            // Each setting named on its own, so the message says which one is wrong.
            if (epochs < 1) {
                throw new ai.lethe.InvalidSettingException("--epochs must be at least 1, got " + epochs);
            }
            if (batchSize < 1) {
                throw new ai.lethe.InvalidSettingException("--batch-size must be at least 1, got " + batchSize);
            }
            if (!(lr > 0 && Float.isFinite(lr))) {
                throw new ai.lethe.InvalidSettingException("--lr must be a positive number, got " + lr);
            }
            if (!(momentum >= 0 && momentum < 1)) {
                throw new ai.lethe.InvalidSettingException("--momentum must be within [0, 1), got " + momentum);
            }
            if (!(weightDecay >= 0 && Float.isFinite(weightDecay))) {
                throw new ai.lethe.InvalidSettingException("--weight-decay must be a non-negative number, got " + weightDecay);
            }
        }
    }

    /** What one epoch did. */
    public record Epoch(int epoch, float lr, double meanLoss, int samples, double seconds) {
    }

    /** Called after each epoch, for example to write a checkpoint. */
    @FunctionalInterface
    public interface EpochListener {
        void afterEpoch(Epoch epoch) throws IOException;
    }

    private final Kernels kernels;
    private final Progress progress;

    public Trainer(Kernels kernels, Progress progress) {
        this.kernels = kernels;
        this.progress = progress == null ? Progress.NONE : progress;
    }

    /**
     * Trains on the samples of {@code train} that {@code include} accepts (all when null).
     *
     * @param codes mnemonic codes to mix in (null = none)
     * @param mask  0/1 per parameter element limiting what trains (null = everything)
     */
    public List<Epoch> train(Model model, Dataset train, int[] labels, IntPredicate include, Settings s, MnemonicCodes codes,
                             float[][] mask, EpochListener listener) throws IOException {
        return train(model, train, labels, include, s, codes, mask, true, listener);
    }

    /**
     * As above; {@code trainMode} false keeps the model in eval mode while it trains (BatchNorm statistics frozen),
     * for fine-tuning that must leave everything but its mask alone.
     */
    public List<Epoch> train(Model model, Dataset train, int[] labels, IntPredicate include, Settings s, MnemonicCodes codes,
                             float[][] mask, boolean trainMode, EpochListener listener) throws IOException {
        int[] pool = selected(train.size(), include);
        if (pool.length == 0) {
            throw new IllegalArgumentException("nothing to train on: the selection is empty");
        }
        SplittableRandom shuffle = new SplittableRandom(s.seed());
        SplittableRandom mixing = new SplittableRandom(s.seed() ^ 0x6d6e656d6f6e6963L);
        List<Epoch> out = new ArrayList<>();
        model.setTraining(trainMode);
        try (Sgd sgd = new Sgd(model, kernels, s.momentum(), s.weightDecay(), mask)) {
            for (int e = 0; e < s.epochs(); e++) {
                long t0 = System.nanoTime();
                float lr = s.schedule().lr(s.lr(), e, s.epochs());
                int[] order = permute(pool, shuffle);
                double lossSum = 0;
                int batches = 0;
                try (BatchStream stream = BatchStream.ordered(train, labels, s.batchSize(), order,
                        codes == null ? null : codes.mixer(mixing))) {
                    progress.start(String.format("epoch %d/%d (lr %.4g)", e + 1, s.epochs(), lr), stream.expectedBatches(), "batches");
                    while (stream.hasNext()) {
                        Batch b = stream.next();
                        lossSum += model.backward(b, Loss.CROSS_ENTROPY);
                        sgd.step(lr);
                        batches++;
                        progress.advance(1);
                    }
                    progress.finish();
                }
                double mean = lossSum / batches;
                if (!Double.isFinite(mean)) {
                    throw new IllegalStateException("training diverged in epoch " + (e + 1) + " (loss " + mean + "); lower --lr");
                }
                Epoch epoch = new Epoch(e + 1, lr, mean, order.length, (System.nanoTime() - t0) / 1e9);
                out.add(epoch);
                if (listener != null) {
                    model.setTraining(false);
                    listener.afterEpoch(epoch);
                    model.setTraining(trainMode);
                }
            }
        } finally {
            model.setTraining(false);
        }
        return out;
    }

    static int[] selected(int n, IntPredicate include) {
        return java.util.stream.IntStream.range(0, n).filter(i -> include == null || include.test(i)).toArray();
    }

    /** A seeded Fisher-Yates shuffle of a copy of {@code pool}. */
    public static int[] permute(int[] pool, SplittableRandom r) {
        int[] a = pool.clone();
        for (int i = a.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }
}
