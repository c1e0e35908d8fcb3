package ai.lethe.method;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;

import ai.lethe.importance.Estimator;

/** The strength search shared by SSD's alpha auto and Mnemonic's lambda1 auto, on synthetic response curves. */
class HeldOutSearchTest {

    /** A forget accuracy that falls off a cliff at {@code cliff} and a retain accuracy that drops past {@code damage}. */
    private static LambdaSearch.Point respond(double l, double cliff, double damage) {
        double forget = l >= cliff ? 0.0 : 0.9;
        double retain = l >= damage ? 0.5 : 0.9;
        return new LambdaSearch.Point((float) l, "-", 1, forget, retain);
    }

    @Test
    void theBisectionFindsTheSmallestStepPastTheCliff() {
        List<LambdaSearch.Point> curve = new ArrayList<>();
        Predicate<LambdaSearch.Point> retainOk = p -> 0.9 - p.retainAcc() <= 0.02;
        LambdaSearch.Point chosen = HeldOutSearch.walk(MnemonicMethod.LAMBDA1_GRID, l -> {
            LambdaSearch.Point p = respond(l, 0.14, 5);
            curve.add(p);
            return p;
        }, retainOk, p -> retainOk.test(p) && p.forgetAcc() <= 0.01);
        // the grid crosses at 0.3; eight geometric bisections between 0.1 and 0.3 land within (0.3/0.1)^(1/256) of 0.14
        assertTrue(chosen.lambda1() >= 0.14f && chosen.lambda1() < 0.14 * 1.01, "chosen " + chosen);
        long gridUpTo03 = java.util.Arrays.stream(MnemonicMethod.LAMBDA1_GRID).filter(l -> l <= 0.3).count();
        assertEquals(gridUpTo03 + HeldOutSearch.BISECTIONS, curve.size(), "grid up to 0.3, then the bisections");
    }

    @Test
    void whenTheDamageComesFirstNothingIsChosenAndTheFallbackKeepsTheBudget() {
        List<LambdaSearch.Point> curve = new ArrayList<>();
        Predicate<LambdaSearch.Point> retainOk = p -> 0.9 - p.retainAcc() <= 0.02;
        LambdaSearch.Point chosen = HeldOutSearch.walk(MnemonicMethod.LAMBDA1_GRID, l -> {
            LambdaSearch.Point p = respond(l, 1, 0.05);
            curve.add(p);
            return p;
        }, retainOk, p -> retainOk.test(p) && p.forgetAcc() <= 0.01);
        assertNull(chosen);
        LambdaSearch.Point fallback = HeldOutSearch.closest(curve, retainOk, java.util.Comparator.comparing(LambdaSearch.Point::lambda1));
        assertTrue(retainOk.test(fallback) && fallback.lambda1() == (float) MnemonicMethod.LAMBDA1_GRID[0],
                "the smallest step among equals: " + fallback);
    }

    @Test
    void aDropOfExactlyTheBudgetKeepsIt() {
        assertTrue(0.9105 - 0.8905 > 0.02, "the float difference overshoots");
        assertTrue(HeldOutSearch.withinBudget(0.9105, 0.8905, 0.02));
        assertTrue(!HeldOutSearch.withinBudget(0.9105, 0.8900, 0.02));
    }

    @Test
    void ssdsNoteSaysWhatLimitedTheSearchAndOffersWhatWorks() {
        Predicate<AlphaSearch.Point> retainOk = p -> 0.90 - p.retainAcc() <= 0.02;
        List<AlphaSearch.Point> budget = List.of(new AlphaSearch.Point(10, 21, 0.98, 0.90), new AlphaSearch.Point(2, 900, 0.60, 0.89),
                new AlphaSearch.Point(1.5f, 4000, 0.42, 0.85));
        String note = SsdMethod.limitedBy(Estimator.BATCH, 0.02, budget, retainOk, 0.90);
        assertTrue(note.contains("limited by the retain budget: alpha 1.5 (4,000 parameters) already cost 0.0500"), note);
        assertTrue(note.contains("--method lfssd") && note.contains("--estimator per-sample"), note);
        List<AlphaSearch.Point> importances = List.of(new AlphaSearch.Point(10, 21, 0.98, 0.90), new AlphaSearch.Point(1.1f, 60, 0.97, 0.90));
        note = SsdMethod.limitedBy(Estimator.BATCH, 0.02, importances, retainOk, 0.90);
        assertTrue(note.contains("limited by the importances: even alpha 1.1 (60 parameters)"), note);
        note = SsdMethod.limitedBy(Estimator.LABEL_FREE, 0.02, importances, retainOk, 0.90);
        assertTrue(note.contains("--estimator per-sample") && !note.contains("--method lfssd"), note);
    }
}
