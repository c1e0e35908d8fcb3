package ai.lethe.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import ai.lethe.data.DataSource;
import ai.lethe.data.MnemonicCodes;
import ai.lethe.eval.Evaluator;
import ai.lethe.kernels.Kernels;
import ai.lethe.model.zoo.Zoo;
import ai.lethe.model.zoo.ZooConfig;
import ai.lethe.model.zoo.ZooModel;
import ai.lethe.report.Progress;

/** Trains a zoo model from scratch and writes it, as {@code lethe train} and {@code lethe compare} do. */
public final class Training {

    /**
     * @param arch     zoo architecture
     * @param width    ResNet base width
     * @param hidden   MLP hidden units
     * @param settings optimiser settings
     * @param mnemonic draw mnemonic codes and mix them in
     * @param tMix     code substitution probability
     * @param codeDistribution uniform or normal
     */
    public record Request(String arch, int width, int hidden, Trainer.Settings settings, boolean mnemonic, double tMix,
                          String codeDistribution) {
    }

    /** What came out. */
    public record Result(String arch, long params, String data, List<Trainer.Epoch> epochs, double testAcc, String codes,
                         double seconds, String out) {
    }

    private Training() {
    }

    public static Result run(Request r, DataSource source, Path out, Kernels kernels, Progress progress) throws IOException {
        Progress p = progress == null ? Progress.NONE : progress;
        String arch = Zoo.normalise(r.arch());
        int[] trainLabels = source.train().labels();
        int[] testLabels = source.test().labels();
        int classes = Math.max(2, Math.max(Arrays.stream(trainLabels).max().orElse(0), Arrays.stream(testLabels).max().orElse(0)) + 1);
        int[] shape = source.train().sampleShape();
        if (shape.length != 3 || shape[1] != shape[2]) {
            throw new IllegalArgumentException("the zoo needs square images [C, H, H], the data has " + Arrays.toString(shape));
        }
        long t0 = System.nanoTime();
        Trainer.Settings s = r.settings();
        try (ZooModel model = ZooModel.create(arch, new ZooConfig(shape[0], shape[1], classes, r.width(), r.hidden()), s.seed())) {
            MnemonicCodes codes = r.mnemonic() ? MnemonicCodes.draw(classes, shape, s.seed(), r.codeDistribution(), r.tMix()) : null;
            model.putMetadata("lethe.trained_on", source.train().description());
            model.putMetadata("lethe.training", String.format(Locale.ROOT,
                    "sgd lr=%s momentum=%s weight_decay=%s schedule=%s batch=%d seed=%d epochs=%d", s.lr(), s.momentum(),
                    s.weightDecay(), s.schedule().name().toLowerCase(Locale.ROOT), s.batchSize(), s.seed(), s.epochs()));
            if (codes != null) {
                codes.toMetadata().forEach(model::putMetadata);
            }
            p.note(String.format(Locale.ROOT, "training %s (%,d parameters) on %s with %s%s", arch, model.parameterCount(),
                    source.train().description(), kernels.description(), codes == null ? "" : ", mnemonic codes t_mix=" + r.tMix()));
            List<Trainer.Epoch> history = new Trainer(kernels, p).train(model, source.train(), trainLabels, null, s, codes, null,
                    epoch -> {
                        model.putMetadata("lethe.epochs_done", Integer.toString(epoch.epoch()));
                        model.save(out);
                        if (codes != null) {
                            codes.save(MnemonicCodes.besideModel(out));
                        }
                        p.note(String.format(Locale.ROOT, "epoch %d/%d: loss %.4f, %.1f s, checkpoint %s", epoch.epoch(), s.epochs(),
                                epoch.meanLoss(), epoch.seconds(), out));
                    });
            double testAcc = new Evaluator(256, p).accuracy(model, source.test(), testLabels);
            model.putMetadata("lethe.test_acc", String.format(Locale.ROOT, "%.4f", testAcc));
            model.save(out);
            return new Result(arch, model.parameterCount(), source.train().description(), history, testAcc,
                    codes == null ? null : MnemonicCodes.besideModel(out).toString(), (System.nanoTime() - t0) / 1e9, out.toString());
        }
    }
}
