package ai.lethe.method;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The choice between the update's two signs under lambda1 auto, on held-out accuracies (MnemonicMethod.betterSide). */
class MnemonicSignTest {

    static final double RETAIN_BEFORE = 0.92;
    static final double BUDGET = 0.02;

    private static LambdaSearch.Point point(String sign, double forget, double retain) {
        return new LambdaSearch.Point(1e-3f, sign, 0, forget, retain);
    }

    /** A side whose codes' scores prefer plus ({@code codesPreferPlus}) or minus. */
    private static MnemonicMethod.Candidate side(float sign, boolean codesPreferPlus) {
        return new MnemonicMethod.Candidate(sign, null, null, 0, 1, codesPreferPlus ? 2 : 1, codesPreferPlus ? 1 : 2);
    }

    @Test
    void theSideThatKeepsTheRetainBudgetWinsWhateverTheCodesSay() {
        // class 9 of the 5-epoch zoo cnn at lambda1 3e-3: + forgets more on the codes but wrecks the network
        LambdaSearch.Point plus = point("+", 0.78, 0.40);
        LambdaSearch.Point minus = point("-", 0.97, 0.915);
        assertTrue(MnemonicMethod.betterSide(minus, side(-1f, true), plus, RETAIN_BEFORE, BUDGET));
        assertFalse(MnemonicMethod.betterSide(plus, side(+1f, true), minus, RETAIN_BEFORE, BUDGET));
    }

    @Test
    void withinTheBudgetTheSideThatForgetsMoreWins() {
        LambdaSearch.Point plus = point("+", 0.30, 0.91);
        LambdaSearch.Point minus = point("-", 0.60, 0.915);
        assertTrue(MnemonicMethod.betterSide(plus, side(+1f, false), minus, RETAIN_BEFORE, BUDGET));
        assertFalse(MnemonicMethod.betterSide(minus, side(-1f, false), plus, RETAIN_BEFORE, BUDGET));
    }

    @Test
    void aTieOrTwoSidesOverBudgetFallBackToTheCodesRule() {
        LambdaSearch.Point plus = point("+", 0.50, 0.91);
        LambdaSearch.Point minus = point("-", 0.50, 0.91);
        assertTrue(MnemonicMethod.betterSide(minus, side(-1f, false), plus, RETAIN_BEFORE, BUDGET));
        assertFalse(MnemonicMethod.betterSide(minus, side(-1f, true), plus, RETAIN_BEFORE, BUDGET));
        LambdaSearch.Point plusBroke = point("+", 0.10, 0.50);
        LambdaSearch.Point minusBroke = point("-", 0.90, 0.60);
        assertTrue(MnemonicMethod.betterSide(plusBroke, side(+1f, true), minusBroke, RETAIN_BEFORE, BUDGET));
        assertFalse(MnemonicMethod.betterSide(minusBroke, side(-1f, true), plusBroke, RETAIN_BEFORE, BUDGET));
    }
}
