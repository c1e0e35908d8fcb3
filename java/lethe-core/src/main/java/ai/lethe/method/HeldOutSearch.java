package ai.lethe.method;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.DoubleFunction;
import java.util.function.IntPredicate;
import java.util.function.Predicate;

import ai.lethe.data.Batch;
import ai.lethe.data.BatchStream;
import ai.lethe.data.ForgetSplit;
import ai.lethe.eval.Evaluator;
import ai.lethe.model.Model;
import ai.lethe.model.Models;

/**
 * The search of a method's strength on held-out samples of Df and Dr (docs/algorithms.md, sections 3.1 and 3.3),
 * shared by SSD's {@code alpha = auto} and Mnemonic's {@code lambda1 = auto}: walk a grid from the smallest change
 * to the largest until a candidate brings the held-out forget accuracy down to the target within the retain
 * budget (or breaks the budget), then bisect geometrically for the smallest change that still reaches it.
 */
final class HeldOutSearch {

    /** At most this many held-out samples of Df and of Dr: they are kept in memory during the search. */
    static final int HOLDOUT_CAP = 2000;

    /** Refinement steps between the last grid value that kept the retain budget and the first that crossed. */
    static final int BISECTIONS = 8;

    private HeldOutSearch() {
    }

    /**
     * The held-out retain accuracy dropped by at most {@code maxDrop}. Accuracies are counts over a few thousand
     * samples, so a drop of exactly the budget (0.9105 − 0.8905) must not fail on its last binary digit.
     */
    static boolean withinBudget(double retainBefore, double retainAfter, double maxDrop) {
        return retainBefore - retainAfter <= maxDrop + 1e-9;
    }

    /** One candidate tried: its value and the held-out accuracies after applying it. */
    interface Probed {
        double value();

        double forgetAcc();

        double retainAcc();
    }

    /** The held-out samples: which training samples they are, and their batches (kept in memory). */
    record HeldOut(boolean[] mask, int forgetCount, int retainCount, List<Batch> forget, List<Batch> retain) {
        boolean contains(int i) {
            return mask[i];
        }
    }

    /** Holds out a share {@code fraction} of Df and of Dr (at most {@link #HOLDOUT_CAP} each), drawn from {@code seed}. */
    static HeldOut holdOut(ForgetSplit split, double fraction, long seed) {
        var forgetSet = split.forgetSet();
        SplittableRandom rnd = new SplittableRandom(seed);
        boolean[] mask = new boolean[split.train().size()];
        int df = 0;
        int dr = 0;
        for (int i = 0; i < mask.length; i++) {
            boolean forget = forgetSet.isForget(i);
            if (rnd.nextDouble() < fraction && (forget ? df < HOLDOUT_CAP : dr < HOLDOUT_CAP)) {
                mask[i] = true;
                if (forget) {
                    df++;
                } else {
                    dr++;
                }
            }
        }
        if (df == 0 || df == forgetSet.forgetCount()) {
            return new HeldOut(mask, df, dr, List.of(), List.of());
        }
        return new HeldOut(mask, df, dr, collect(split, i -> mask[i] && forgetSet.isForget(i)),
                collect(split, i -> mask[i] && !forgetSet.isForget(i)));
    }

    /** The held-out forget accuracy to reach, and where it came from. */
    record Target(double forgetAcc, String source) {
    }

    /** The given target, else the reference model's accuracy on the held-out Df, else {@code fallback}. */
    static Target target(Double given, Path referenceModel, HeldOut heldOut, double fallback, String fallbackSource)
            throws IOException {
        if (given != null) {
            return new Target(given, "given");
        }
        if (referenceModel != null) {
            try (Model reference = Models.load(referenceModel)) {
                return new Target(Evaluator.accuracy(reference, heldOut.forget()), "reference model " + referenceModel);
            }
        }
        return new Target(fallback, fallbackSource);
    }

    /**
     * Walks {@code gridSmallestChangeFirst}, then bisects; returns the candidate that reaches the target with the
     * smallest change, or null when none did ({@link #closest} then picks the fallback). Every probe's point is
     * expected in the caller's curve.
     */
    static <P extends Probed> P walk(double[] gridSmallestChangeFirst, DoubleFunction<P> probe, Predicate<P> retainOk,
                                     Predicate<P> reached) {
        P smaller = null;
        P crossing = null;
        for (double v : gridSmallestChangeFirst) {
            P p = probe.apply(v);
            if (reached.test(p) || !retainOk.test(p)) {
                crossing = p;
                break;
            }
            smaller = p;
        }
        // Bisect (geometrically) between the last value that kept the budget without reaching the target and that
        // crossing, for the smallest change that reaches it: the grid is coarse where the effect has a cliff.
        P chosen = crossing != null && reached.test(crossing) ? crossing : null;
        if (crossing != null && smaller != null) {
            double small = smaller.value();
            double large = crossing.value();
            for (int i = 0; i < BISECTIONS; i++) {
                double mid = Math.sqrt(small * large);
                P p = probe.apply(mid);
                if (reached.test(p)) {
                    chosen = p;     // good: look for a smaller change
                    large = mid;
                } else if (!retainOk.test(p)) {
                    large = mid;    // too much damage: back off
                } else {
                    small = mid;    // not forgotten yet: change more
                }
            }
        }
        return chosen;
    }

    /**
     * When nothing reached the target: the most forgetting candidate that kept the retain budget, the smaller change
     * first among equals ({@code smallerChangeFirst}), or the first tried when every one broke the budget.
     */
    static <P extends Probed> P closest(List<P> curve, Predicate<P> retainOk, Comparator<P> smallerChangeFirst) {
        return curve.stream().filter(retainOk).min(Comparator.comparingDouble((P p) -> p.forgetAcc()).thenComparing(smallerChangeFirst))
                .orElse(curve.get(0));
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
