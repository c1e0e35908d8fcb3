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
 * Baseline NegGrad (docs/algorithms.md, section 3.6): each step pairs a Df batch with a Dr batch and follows the
 * gradient of CE(Dr) − γ·CE(Df), i.e. ascent on the forget set with a descent term that keeps the rest. One epoch
 * is one pass over Df; Dr batches are drawn from a shuffled pass that restarts when it runs out.
 *
 * <p>Plain ascent on a cross-entropy is unbounded: once Df is misclassified its loss keeps growing by inflating
 * the logits, which drags every class down (or overflows to NaN). Three safeguards, each optional: the combined
 * gradient is clipped to a global norm; a forget batch whose loss is already above a ceiling (ln(classes) + 1 by
 * default, worse than a uniform guess) contributes no ascent, so that step only descends on Dr; and the run stops
 * early when the retain loss, averaged over the last steps, has risen by more than a bound since the start.
 */
final class NegGradMethod implements UnlearningMethod<MethodSettings.NegGrad> {

    @Override
    public Outcome forget(MethodContext ctx, MethodSettings.NegGrad s) throws IOException {
        MethodSettings.Training t = s.training();
        Model model = ctx.model();
        Outcome out = new Outcome();
        List<Double> losses = new ArrayList<>();
        double ceiling = s.forgetLossCeiling(model.numClasses(ctx.split().train().sampleShape()));
        java.util.ArrayDeque<Double> recentRetain = new java.util.ArrayDeque<>();
        double retainStart = Double.NaN;
        int steps = 0;
        int ascentSteps = 0;
        int clippedSteps = 0;
        String stoppedEarly = null;
        model.setTraining(true);
        try (Sgd sgd = new Sgd(model, ctx.kernels(), t.momentum(), t.weightDecay(), null);
             PairedBatches pairs = new PairedBatches(ctx.split(), t.trainBatchSize(), true, new SplittableRandom(ctx.request().seed()))) {
            epochs:
            for (int e = 0; e < Math.max(1, t.epochs()); e++) {
                try (BatchStream forgetStream = pairs.epoch()) {
                    ctx.progress().start("neggrad epoch " + (e + 1), forgetStream.expectedBatches(), "steps");
                    double sum = 0;
                    int epochSteps = 0;
                    while (forgetStream.hasNext()) {
                        Batch bf = forgetStream.next();
                        Batch br = pairs.nextPaired();
                        double lr = model.backward(br, Loss.CROSS_ENTROPY);
                        if (Double.isNaN(retainStart)) {
                            retainStart = lr;
                        }
                        recentRetain.addLast(lr);
                        if (recentRetain.size() > MethodSettings.NegGrad.RETAIN_LOSS_WINDOW) {
                            recentRetain.removeFirst();
                        }
                        double recent = recentRetain.stream().mapToDouble(Double::doubleValue).average().orElse(lr);
                        if (s.maxRetainLossIncrease() > 0 && recent > retainStart + s.maxRetainLossIncrease()) {
                            stoppedEarly = String.format("stopped early after %d steps: the retain loss (mean of the last %d"
                                    + " steps) rose from %.4f to %.4f, more than max_retain_loss_increase %s", steps,
                                    recentRetain.size(), retainStart, recent, s.maxRetainLossIncrease());
                            ctx.progress().finish();
                            losses.add(sum / Math.max(1, epochSteps));
                            break epochs;
                        }
                        sgd.addToCombined(1f);
                        double lf = model.backward(bf, Loss.CROSS_ENTROPY);
                        boolean ascend = ceiling <= 0 || lf < ceiling;
                        if (ascend) {
                            sgd.addToCombined(-s.forgetWeight());
                            ascentSteps++;
                        }
                        if (s.maxGradNorm() > 0 && sgd.clipCombined(s.maxGradNorm()) > s.maxGradNorm()) {
                            clippedSteps++;
                        }
                        sgd.stepCombined(t.lr());
                        sum += lr - (ascend ? s.forgetWeight() * lf : 0);
                        epochSteps++;
                        steps++;
                        ctx.progress().advance(1);
                    }
                    ctx.progress().finish();
                    losses.add(sum / Math.max(1, epochSteps));
                }
            }
        } finally {
            model.setTraining(false);
        }
        out.changed = model.parameterCount();
        out.details.put("mean_objective_per_epoch", losses);
        out.details.put("steps", steps);
        out.details.put("ascent_steps", ascentSteps);
        out.details.put("clipped_steps", clippedSteps);
        out.details.put("forget_loss_ceiling", ceiling);
        if (stoppedEarly != null) {
            out.details.put("stopped_early", stoppedEarly);
            out.notes.add("neggrad " + stoppedEarly);
        }
        return out;
    }
}
