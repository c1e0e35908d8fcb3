package ai.lethe.method;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntPredicate;

import ai.lethe.ForgetRequest;
import ai.lethe.data.BatchStream;
import ai.lethe.data.ForgetSplit;
import ai.lethe.eval.Evaluator;
import ai.lethe.importance.Estimator;
import ai.lethe.importance.Importance;
import ai.lethe.model.Model;
import ai.lethe.model.Models;

/**
 * SSD and LFSSD: importances over D and Df, then {@link SsdDampening}. With --alpha auto, α is searched on
 * held-out parts of Df and Dr (see {@link ForgetRequest#alphaAuto}).
 */
final class SsdMethod implements UnlearningMethod {

    /** α candidates, from a small change to a large one. */
    static final float[] ALPHA_GRID = {1000f, 500f, 200f, 100f, 50f, 30f, 20f, 15f, 10f, 7f, 5f, 3.5f, 2.5f, 2f, 1.5f, 1.25f, 1.1f};

    @Override
    public Outcome forget(MethodContext ctx) throws IOException {
        ForgetRequest r = ctx.request();
        Estimator estimator = r.estimator();
        Outcome out = new Outcome();
        if (r.alphaAuto()) {
            return searchAlpha(ctx, estimator, out);
        }
        Importance full = ctx.fullImportance(estimator, out);
        Importance forget = ctx.forgetImportance(estimator, out);
        dampen(ctx, full, forget, r.alpha(), out);
        return out;
    }

    private static void dampen(MethodContext ctx, Importance full, Importance forget, float alpha, Outcome out) {
        ForgetRequest r = ctx.request();
        SsdDampening.Outcome d = SsdDampening.apply(ctx.model(), full.values(), forget.values(), alpha, r.lambda(), ctx.kernels());
        out.changed = d.selected();
        out.largestRatio = Double.isFinite(d.largestRatio()) ? (double) d.largestRatio() : null;
        out.notes.addAll(d.notes());
        if (r.estimator() == Estimator.PER_SAMPLE) {
            var f = ctx.split().forgetSet();
            double bound = (double) f.trainSize() / f.forgetCount();
            if (alpha >= bound) {
                out.notes.add(String.format("alpha = %s is at or above |D|/|Df| = %.4g, the largest ratio the per-sample"
                        + " Fisher allows, so nothing can be selected", alpha, bound));
            }
        }
    }

    /** One point of the --alpha auto search. */
    record Point(float alpha, long selected, double forgetAcc, double retainAcc) {
    }

    private Outcome searchAlpha(MethodContext ctx, Estimator estimator, Outcome out) throws IOException {
        ForgetRequest r = ctx.request();
        ForgetSplit split = ctx.split();
        var forgetSet = split.forgetSet();
        SplittableRandom rnd = new SplittableRandom(r.seed() ^ 0x616c706861L);
        // Held-out samples: a share of Df (excluded from I_f) and of Dr (at most 2,000) to judge each α on.
        boolean[] heldOut = new boolean[split.train().size()];
        int df = 0;
        int dr = 0;
        int drCap = 2000;
        for (int i = 0; i < heldOut.length; i++) {
            boolean forget = forgetSet.isForget(i);
            if (rnd.nextDouble() < r.holdoutFraction() && (forget || dr < drCap)) {
                heldOut[i] = true;
                if (forget) {
                    df++;
                } else {
                    dr++;
                }
            }
        }
        if (df == 0 || df == forgetSet.forgetCount()) {
            throw new IllegalArgumentException("--alpha auto needs a forget set large enough to hold some of it out ("
                    + forgetSet.forgetCount() + " samples, hold-out fraction " + r.holdoutFraction() + ")");
        }
        Importance full = ctx.fullImportance(estimator, out);
        Importance forget = ctx.forgetImportance(estimator, out, i -> !heldOut[i]);
        Model model = ctx.model();
        int classes = model.numClasses(split.train().sampleShape());
        IntPredicate dfHeld = i -> heldOut[i] && forgetSet.isForget(i);
        IntPredicate drHeld = i -> heldOut[i] && !forgetSet.isForget(i);

        double target;
        String targetSource;
        if (r.targetForgetAcc() != null) {
            target = r.targetForgetAcc();
            targetSource = "given";
        } else if (r.referenceModel() != null) {
            try (Model reference = Models.load(r.referenceModel())) {
                target = accuracy(reference, split, dfHeld);
            }
            targetSource = "reference model " + r.referenceModel();
        } else {
            target = 1.0 / classes;
            targetSource = "chance level (1/" + classes + ")";
        }
        float[][] original = model.readParameters();
        double retain0 = accuracy(model, split, drHeld);
        List<Point> curve = new ArrayList<>();
        Point chosen = null;
        for (float alpha : ALPHA_GRID) {
            model.writeParameters(original);
            long selected = SsdDampening.apply(model, full.values(), forget.values(), alpha, r.lambda(), ctx.kernels()).selected();
            Point p = new Point(alpha, selected, accuracy(model, split, dfHeld), accuracy(model, split, drHeld));
            curve.add(p);
            ctx.progress().note(String.format("alpha %-6s selected %,9d  held-out forget acc %.4f  retain acc %.4f", alpha, selected,
                    p.forgetAcc(), p.retainAcc()));
            boolean retainOk = retain0 - p.retainAcc() <= r.maxRetainDrop();
            if (!retainOk) {
                break; // smaller α only changes more
            }
            if (p.forgetAcc() <= target) {
                chosen = p;
                break;
            }
        }
        if (chosen == null) {
            // No α met the target within the retain budget: take the most forgetting one that kept the budget.
            chosen = curve.stream().filter(p -> retain0 - p.retainAcc() <= r.maxRetainDrop())
                    .min(java.util.Comparator.comparingDouble(Point::forgetAcc)).orElse(curve.get(0));
            out.notes.add(String.format("--alpha auto: no alpha reached the target forget accuracy %.4f while keeping the retain"
                    + " drop within %.4f; chose alpha %s (held-out forget accuracy %.4f)", target, r.maxRetainDrop(), chosen.alpha(),
                    chosen.forgetAcc()));
        }
        model.writeParameters(original);
        dampen(ctx, full, forget, chosen.alpha(), out);
        Map<String, Object> search = new LinkedHashMap<>();
        search.put("chosen_alpha", chosen.alpha());
        search.put("target_forget_acc", target);
        search.put("target_source", targetSource);
        search.put("retain_acc_before", retain0);
        search.put("max_retain_drop", r.maxRetainDrop());
        search.put("holdout_forget_samples", df);
        search.put("holdout_retain_samples", dr);
        search.put("curve", curve);
        out.details.put("alpha_search", search);
        return out;
    }

    /** Accuracy on the training samples {@code include} accepts. */
    static double accuracy(Model model, ForgetSplit split, IntPredicate include) {
        try (BatchStream s = BatchStream.passes(split.train(), split.labels(), 256, List.of(include))) {
            return new Evaluator(256, null).accuracy(model, s, split.train().sampleShape(), "held-out accuracy");
        }
    }
}
