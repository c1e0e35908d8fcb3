package ai.lethe.kernels.check;

/** A kernel gave another result than the reference (an AssertionError, so test frameworks report it as a failure). */
public final class KernelMismatch extends AssertionError {

    public KernelMismatch(String message) {
        super(message);
    }

    public static void expectEqual(long expected, long actual, String what) {
        if (expected != actual) {
            throw new KernelMismatch(what + ": got " + actual + ", expected " + expected);
        }
    }

    public static void expectEqual(long expected, long actual) {
        expectEqual(expected, actual, "count");
    }

    public static void expectEqual(float expected, float actual) {
        expectEqual(expected, actual, 0, "value");
    }

    /** |actual − expected| ≤ delta, NaN equal to NaN. */
    public static void expectEqual(double expected, double actual, double delta, String what) {
        boolean same = Double.isNaN(expected) ? Double.isNaN(actual) : Math.abs(actual - expected) <= delta || expected == actual;
        if (!same) {
            throw new KernelMismatch(what + ": got " + actual + ", expected " + expected + (delta > 0 ? " ± " + delta : ""));
        }
    }

    public static void expectTrue(boolean condition, String what) {
        if (!condition) {
            throw new KernelMismatch(what);
        }
    }
}
