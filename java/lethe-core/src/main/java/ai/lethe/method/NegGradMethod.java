package ai.lethe.method;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import ai.lethe.ForgetRequest;
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
final class NegGradMethod implements UnlearningMethod {

    @Override
    public Outcome forget(MethodContext ctx) throws IOException {
        ForgetRequest r = ctx.request();
        Model model = ctx.model();
        ForgetSplit split = ctx.split();
        int n = split.train().size();
        int[] forget = IntStream.range(0, n).filter(split.forgetSet()::isForget).toArray();
        int[] retain = IntStream.range(0, n).filter(i -> !split.forgetSet().isForget(i)).toArray();
        SplittableRandom rnd = new SplittableRandom(r.seed());
        Outcome out = new Outcome();
        List<Double> losses = new ArrayList<>();
        model.setTraining(true);
        try (Sgd sgd = new Sgd(model, ctx.kernels(), r.momentum(), r.weightDecay(), null)) {
            BatchStream retainStream = BatchStream.ordered(split.train(), split.labels(), r.trainBatchSize(), Trainer.permute(retain, rnd), null);
            try {
                for (int e = 0; e < Math.max(1, r.epochs()); e++) {
                    try (BatchStream forgetStream = BatchStream.ordered(split.train(), split.labels(), r.trainBatchSize(),
                            Trainer.permute(forget, rnd), null)) {
                        ctx.progress().start("neggrad epoch " + (e + 1), forgetStream.expectedBatches(), "steps");
                        double sum = 0;
                        int steps = 0;
                        while (forgetStream.hasNext()) {
                            Batch bf = forgetStream.next();
                            if (!retainStream.hasNext()) {
                                retainStream.close();
                                retainStream = BatchStream.ordered(split.train(), split.labels(), r.trainBatchSize(), Trainer.permute(retain, rnd), null);
                            }
                            Batch br = retainStream.next();
                            double lr = model.backward(br, Loss.CROSS_ENTROPY);
                            sgd.addToCombined(1f);
                            double lf = model.backward(bf, Loss.CROSS_ENTROPY);
                            sgd.addToCombined(-r.forgetWeight());
                            sgd.stepCombined(r.lr());
                            sum += lr - r.forgetWeight() * lf;
                            steps++;
                            ctx.progress().advance(1);
                        }
                        ctx.progress().finish();
                        losses.add(sum / Math.max(1, steps));
                    }
                }
            } finally {
                retainStream.close();
            }
        } finally {
            model.setTraining(false);
        }
        out.changed = model.parameterCount();
        out.details.put("mean_objective_per_epoch", losses);
        return out;
    }
}
