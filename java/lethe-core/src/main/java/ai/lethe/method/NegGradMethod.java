package ai.lethe.method;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import ai.lethe.data.Batch;
import ai.lethe.data.BatchStream;
import ai.lethe.data.ForgetSplit;
import ai.lethe.model.Loss;
import ai.lethe.model.Model;
import ai.lethe.train.Sgd;
import ai.lethe.train.Trainer;

/**
 * Baseline NegGrad: each step pairs a Df batch with a Dr batch and follows the gradient of
 * CE(Dr) − γ·CE(Df), i.e. ascent on the forget set with a descent term that keeps the rest. One epoch is one
 * pass over Df; Dr batches are drawn from a shuffled pass that restarts when it runs out.
 */
final class NegGradMethod implements UnlearningMethod<MethodSettings.NegGrad> {

    @Override
    public Outcome forget(MethodContext ctx, MethodSettings.NegGrad s) throws IOException {
        MethodSettings.Training t = s.training();
        Model model = ctx.model();
        Outcome out = new Outcome();
        List<Double> losses = new ArrayList<>();
        model.setTraining(true);
        try (Sgd sgd = new Sgd(model, ctx.kernels(), t.momentum(), t.weightDecay(), null);
             PairedBatches pairs = new PairedBatches(ctx.split(), t.trainBatchSize(), true, new SplittableRandom(ctx.request().seed()))) {
            for (int e = 0; e < Math.max(1, t.epochs()); e++) {
                try (BatchStream forgetStream = pairs.epoch()) {
                    ctx.progress().start("neggrad epoch " + (e + 1), forgetStream.expectedBatches(), "steps");
                    double sum = 0;
                    int steps = 0;
                    while (forgetStream.hasNext()) {
                        Batch bf = forgetStream.next();
                        Batch br = pairs.nextPaired();
                        double lr = model.backward(br, Loss.CROSS_ENTROPY);
                        sgd.addToCombined(1f);
                        double lf = model.backward(bf, Loss.CROSS_ENTROPY);
                        sgd.addToCombined(-s.forgetWeight());
                        sgd.stepCombined(t.lr());
                        sum += lr - s.forgetWeight() * lf;
                        steps++;
                        ctx.progress().advance(1);
                    }
                    ctx.progress().finish();
                    losses.add(sum / Math.max(1, steps));
                }
            }
        } finally {
            model.setTraining(false);
        }
        out.changed = model.parameterCount();
        out.details.put("mean_objective_per_epoch", losses);
        return out;
    }
}
