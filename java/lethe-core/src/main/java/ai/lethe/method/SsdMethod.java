package ai.lethe.method;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntPredicate;

import ai.lethe.ForgetRequest;
import ai.lethe.data.Batch;
import ai.lethe.data.BatchStream;
import ai.lethe.data.ForgetSplit;
import ai.lethe.eval.Evaluator;
import ai.lethe.importance.Estimator;
import ai.lethe.importance.Importance;
import ai.lethe.model.Model;
import ai.lethe.model.Models;
import ai.lethe.method.AlphaSearch.Point;

/**
 * SSD and LFSSD: importances over D and Df, then {@link SsdDampening}. With alpha = auto, α is searched on
 * held-out parts of Df and Dr: the largest α (the smallest change) whose dampening brings the accuracy on the
 * held-out Df down to the target while the accuracy on the held-out Dr drops by at most max_retain_drop.
 */
final class SsdMethod implements UnlearningMethod<MethodSettings.Ssd> {

    /** At most this many held-out samples of Df and of Dr: they are kept in memory during the search. */
    static final int HOLDOUT_CAP = 2000;

    /** Refinement steps between the last grid α that kept the retain budget and the first that crossed. */
    static final int BISECTIONS = 8;

    /** α candidates, from a small change to a large one. */
    static final float[] ALPHA_GRID = {1000f, 500f, 200f, 100f, 50f, 30f, 20f, 15f, 10f, 7f, 5f, 3.5f, 2.5f, 2f, 1.5f, 1.25f, 1.1f};

    @Override
    public Outcome forget(MethodContext ctx, MethodSettings.Ssd s) throws IOException {
        Estimator estimator = ctx.request().estimator();
        Outcome out = new Outcome();
        if (s.alphaAuto()) {
            return searchAlpha(ctx, s, estimator, out);
        }
        Importance full = ctx.fullImportance(estimator, out);
        Importance forget = ctx.forgetImportance(estimator, out);
        dampen(ctx, s, full, forget, s.alpha().floatValue(), out, "lower --alpha");
        return out;
    }

    /** {@code advice}: what to do when nothing is selected, which depends on how alpha was chosen. */
    private static void dampen(MethodContext ctx, MethodSettings.Ssd s, Importance full, Importance forget, float alpha, Outcome out,
                               String advice) {
        ForgetRequest r = ctx.request();
        SsdDampening.Dampened d = SsdDampening.apply(ctx.model(), full.values(), forget.values(), alpha, s.lambda(), ctx.kernels());
        out.changed = d.selected();
        out.largestRatio = Double.isFinite(d.largestRatio()) ? (double) d.largestRatio() : null;
        for (String note : d.notes()) {
            out.notes.add(note + " (" + advice + ")");
        }
        if (r.estimator() == Estimator.PER_SAMPLE) {
            var f = ctx.split().forgetSet();
            double bound = (double) f.trainSize() / f.forgetCount();
            if (alpha >= bound) {
                out.notes.add(String.format("alpha = %s is at or above |D|/|Df| = %.4g, the largest ratio the per-sample"
                        + " Fisher allows, so nothing can be selected", alpha, bound));
            }
        }
    }

    private Outcome searchAlpha(MethodContext ctx, MethodSettings.Ssd s, Estimator estimator, Outcome out) throws IOException {
        ForgetRequest r = ctx.request();
        ForgetSplit split = ctx.split();
        var forgetSet = split.forgetSet();
        SplittableRandom rnd = new SplittableRandom(r.seed() ^ 0x616c706861L);
        // Held-out samples: a share of Df (excluded from I_f) and of Dr (at most 2,000) to judge each α on.
        boolean[] heldOut = new boolean[split.train().size()];
        int df = 0;
        int dr = 0;
        for (int i = 0; i < heldOut.length; i++) {
            boolean forget = forgetSet.isForget(i);
            if (rnd.nextDouble() < s.holdoutFraction() && (forget ? df < HOLDOUT_CAP : dr < HOLDOUT_CAP)) {
                heldOut[i] = true;
                if (forget) {
                    df++;
                } else {
                    dr++;
                }
            }
        }
        if (df == 0 || df == forgetSet.forgetCount()) {
            throw ai.lethe.InvalidSettingException.about("{alpha} auto needs a forget set large enough to hold some of it out ("
                    + forgetSet.forgetCount() + " samples, hold-out fraction " + s.holdoutFraction() + ")");
        }
        Importance full = ctx.fullImportance(estimator, out);
        Importance forget = ctx.forgetImportance(estimator, out, i -> !heldOut[i]);
        Model model = ctx.model();
        int classes = model.numClasses(split.train().sampleShape());
        List<Batch> dfHeld = collect(split, i -> heldOut[i] && forgetSet.isForget(i));
        List<Batch> drHeld = collect(split, i -> heldOut[i] && !forgetSet.isForget(i));

        double target;
        String targetSource;
        if (s.targetForgetAcc() != null) {
            target = s.targetForgetAcc();
            targetSource = "given";
        } else if (s.referenceModel() != null) {
            try (Model reference = Models.load(s.referenceModel())) {
                target = Evaluator.accuracy(reference, dfHeld);
            }
            targetSource = "reference model " + s.referenceModel();
        } else {
            target = 1.0 / classes;
            targetSource = "chance level (1/" + classes + ")";
        }
        float[][] original = model.readParameters();
        double retain0 = Evaluator.accuracy(model, drHeld);
        List<Point> curve = new ArrayList<>();
        java.util.function.DoubleFunction<Point> probe = a -> {
            model.writeParameters(original);
            long selected = SsdDampening.apply(model, full.values(), forget.values(), (float) a, s.lambda(), ctx.kernels()).selected();
            Point p = new Point((float) a, selected, Evaluator.accuracy(model, dfHeld), Evaluator.accuracy(model, drHeld));
            curve.add(p);
            ctx.progress().note(String.format("alpha %-9.4g selected %,9d  held-out forget acc %.4f  retain acc %.4f", a, selected,
                    p.forgetAcc(), p.retainAcc()));
            return p;
        };
        java.util.function.Predicate<Point> retainOk = p -> retain0 - p.retainAcc() <= s.maxRetainDrop();
        java.util.function.Predicate<Point> reached = p -> retainOk.test(p) && p.forgetAcc() <= target;
        // Coarse pass down the grid until an alpha reaches the target or breaks the retain budget ...
        Point above = null;
        Point crossing = null;
        for (float alpha : ALPHA_GRID) {
            Point p = probe.apply(alpha);
            if (reached.test(p) || !retainOk.test(p)) {
                crossing = p;
                break;
            }
            above = p;
        }
        // ... then bisect (geometrically) between the last alpha that kept the budget without reaching the target
        // and that crossing, for the largest alpha that reaches it: the grid is coarse where dampening has a cliff.
        Point chosen = crossing != null && reached.test(crossing) ? crossing : null;
        if (crossing != null && above != null) {
            double hi = above.alpha();
            double lo = crossing.alpha();
            for (int i = 0; i < BISECTIONS; i++) {
                double mid = Math.sqrt(hi * lo);
                Point p = probe.apply(mid);
                if (reached.test(p)) {
                    chosen = p; // good: look for a larger alpha (a smaller change)
                    lo = mid;
                } else if (!retainOk.test(p)) {
                    lo = mid;   // too much damage: back off towards hi
                } else {
                    hi = mid;   // not forgotten yet: go lower
                }
            }
        }
        if (chosen == null) {
            // Nothing reached the target within the retain budget: the most forgetting alpha that kept the budget.
            chosen = curve.stream().filter(retainOk).min(java.util.Comparator.comparingDouble(Point::forgetAcc)
                    .thenComparing(Point::alpha, java.util.Comparator.reverseOrder())).orElse(curve.get(0));
            out.notes.add(String.format("--alpha auto: no alpha reached the target forget accuracy %.4f while keeping the retain"
                    + " drop within %.4f; chose alpha %s (held-out forget accuracy %.4f)", target, s.maxRetainDrop(), chosen.alpha(),
                    chosen.forgetAcc()));
        }
        model.writeParameters(original);
        dampen(ctx, s, full, forget, chosen.alpha(), out,
                "--alpha auto found no alpha that forgets more within the retain budget: raise --max-retain-drop, or give"
                        + " --alpha by hand");
        out.alphaSearch = new AlphaSearch(chosen.alpha(), target, targetSource, retain0, s.maxRetainDrop(), df, dr, curve);
        out.details.put("alpha_search", out.alphaSearch);
        return out;
    }

    /** The training samples {@code include} accepts, read once and kept (the held-out sets are capped). */
    private static List<Batch> collect(ForgetSplit split, IntPredicate include) {
        List<Batch> out = new ArrayList<>();
        try (BatchStream s = BatchStream.passes(split.train(), split.labels(), 256, List.of(include))) {
            s.forEachRemaining(out::add);
        }
        return out;
    }
}
