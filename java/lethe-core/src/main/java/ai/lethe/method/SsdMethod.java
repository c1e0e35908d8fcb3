package ai.lethe.method;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import ai.lethe.ForgetRequest;
import ai.lethe.data.Batch;
import ai.lethe.data.ForgetSplit;
import ai.lethe.eval.Evaluator;
import ai.lethe.importance.Estimator;
import ai.lethe.importance.Importance;
import ai.lethe.kernels.TensorList;
import ai.lethe.model.Model;
import ai.lethe.method.AlphaSearch.Point;

/**
 * SSD and LFSSD: importances over D and Df, then {@link SsdDampening}. With alpha = auto, α is searched on
 * held-out parts of Df and Dr: the largest α (the smallest change) whose dampening brings the accuracy on the
 * held-out Df down to the target while the accuracy on the held-out Dr drops by at most max_retain_drop.
 */
final class SsdMethod implements UnlearningMethod<MethodSettings.Ssd> {

    /** α candidates, from a small change to a large one. */
    static final double[] ALPHA_GRID = {1000, 500, 200, 100, 50, 30, 20, 15, 10, 7, 5, 3.5, 2.5, 2, 1.5, 1.25, 1.1};

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
        SsdDampening.Dampened d = SsdDampening.apply(ctx.model(), full, forget, alpha, s.lambda(), ctx.kernels());
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
        // Held-out samples: a share of Df (excluded from I_f) and of Dr (at most 2,000) to judge each α on.
        HeldOutSearch.HeldOut heldOut = HeldOutSearch.holdOut(split, s.holdoutFraction(), r.seed() ^ 0x616c706861L);
        if (heldOut.forget().isEmpty()) {
            throw ai.lethe.InvalidSettingException.about("{alpha} auto needs a forget set large enough to hold some of it out ("
                    + forgetSet.forgetCount() + " samples, hold-out fraction " + s.holdoutFraction() + ")");
        }
        Importance full = ctx.fullImportance(estimator, out);
        Importance forget = ctx.forgetImportance(estimator, out, i -> !heldOut.contains(i));
        Model model = ctx.model();
        int classes = model.numClasses(split.train().sampleShape());
        List<Batch> dfHeld = heldOut.forget();
        List<Batch> drHeld = heldOut.retain();
        HeldOutSearch.Target t = HeldOutSearch.target(s.targetForgetAcc(), s.referenceModel(), heldOut, 1.0 / classes,
                "chance level (1/" + classes + ")");
        double target = t.forgetAcc();
        float[][] original = model.readParameters();
        double retain0 = Evaluator.accuracy(model, drHeld);
        List<Point> curve = new ArrayList<>();
        java.util.function.Predicate<Point> retainOk = p -> HeldOutSearch.withinBudget(retain0, p.retainAcc(), s.maxRetainDrop());
        java.util.function.Predicate<Point> reached = p -> retainOk.test(p) && p.forgetAcc() <= target;
        Point chosen;
        // The importances normalised once in the kernels' memory (on a GPU, where the passes left them), for every α.
        try (TensorList iD = full.valuesOn(ctx.kernels()); TensorList iF = forget.valuesOn(ctx.kernels())) {
            java.util.function.DoubleFunction<Point> probe = a -> {
                model.writeParameters(original);
                long selected = SsdDampening.apply(model, iD, iF, (float) a, s.lambda(), ctx.kernels()).selected();
                Point p = new Point((float) a, selected, Evaluator.accuracy(model, dfHeld), Evaluator.accuracy(model, drHeld));
                curve.add(p);
                ctx.progress().note(String.format("alpha %-9.4g selected %,9d  held-out forget acc %.4f  retain acc %.4f", a,
                        selected, p.forgetAcc(), p.retainAcc()));
                return p;
            };
            // Down the grid (from a small change to a large one), then bisect for the largest alpha that reaches the target.
            chosen = HeldOutSearch.walk(ALPHA_GRID, probe, retainOk, reached);
        }
        if (chosen == null) {
            chosen = HeldOutSearch.closest(curve, retainOk, java.util.Comparator.comparing(Point::alpha, java.util.Comparator.reverseOrder()));
            out.notes.add(String.format("--alpha auto: no alpha reached the target forget accuracy %.4f while keeping the retain"
                    + " drop within %.4f; chose alpha %s (held-out forget accuracy %.4f)", target, s.maxRetainDrop(), chosen.alpha(),
                    chosen.forgetAcc()));
            out.notes.add(limitedBy(estimator, s.maxRetainDrop(), curve, retainOk, retain0));
        }
        model.writeParameters(original);
        dampen(ctx, s, full, forget, chosen.alpha(), out,
                "--alpha auto found no alpha that forgets more within the retain budget: raise --max-retain-drop, or give"
                        + " --alpha by hand");
        out.alphaSearch = new AlphaSearch(chosen.alpha(), target, t.source(), retain0, s.maxRetainDrop(), heldOut.forgetCount(),
                heldOut.retainCount(), curve);
        out.details.put("alpha_search", out.alphaSearch);
        return out;
    }

    /**
     * Why the search stopped short, for the report: the retain budget (a candidate that forgot more cost too much
     * retain accuracy), or the importances (every α kept the budget and still did not forget), with the ways that
     * do work where the batch importances of one model do not separate Df from the rest.
     */
    static String limitedBy(Estimator e, double maxRetainDrop, List<Point> curve, java.util.function.Predicate<Point> retainOk,
                            double retain0) {
        Point broke = curve.stream().filter(retainOk.negate()).max(java.util.Comparator.comparing(Point::alpha)).orElse(null);
        String limit;
        if (broke != null) {
            limit = String.format("limited by the retain budget: alpha %s (%,d parameters) already cost %.4f of held-out retain"
                    + " accuracy (budget %.4f) with held-out forget accuracy still %.4f", broke.alpha(), broke.selected(),
                    retain0 - broke.retainAcc(), maxRetainDrop, broke.forgetAcc());
        } else {
            Point last = curve.stream().min(java.util.Comparator.comparing(Point::alpha)).orElseThrow();
            limit = String.format("limited by the importances: even alpha %s (%,d parameters) kept the retain budget and left"
                    + " held-out forget accuracy at %.4f", last.alpha(), last.selected(), last.forgetAcc());
        }
        String way = e == Estimator.BATCH
                ? "the batch-mean Fisher of this model does not single out the forget set; what works on convolutional networks:"
                        + " --method lfssd (label-free importances) or --estimator per-sample (the empirical Fisher), each with"
                        + " --alpha auto, or raise --max-retain-drop"
                : e == Estimator.LABEL_FREE ? "try --method ssd --estimator per-sample --alpha auto, or raise --max-retain-drop"
                : "try --method lfssd --alpha auto, or raise --max-retain-drop";
        return "--alpha auto was " + limit + "; " + way;
    }
}
