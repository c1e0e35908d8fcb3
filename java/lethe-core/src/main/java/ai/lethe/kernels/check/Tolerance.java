package ai.lethe.kernels.check;

/**
 * |actual − reference| ≤ atol + rtol·|reference|, element by element; NaN must match NaN and infinities
 * must match exactly. A difference throws {@link KernelMismatch} naming the first element that differs.
 */
public record Tolerance(double atol, double rtol) {

    /** Element-wise kernels: every back end performs the same fp32 operations in the same order. */
    public static final Tolerance EXACT = new Tolerance(0, 0);

    public void assertClose(String what, float[][] reference, float[][] actual) {
        if (reference.length != actual.length) {
            throw new KernelMismatch(what + ": " + actual.length + " tensors, expected " + reference.length);
        }
        for (int t = 0; t < reference.length; t++) {
            assertClose(what + " tensor " + t, reference[t], actual[t]);
        }
    }

    public void assertClose(String what, float[] reference, float[] actual) {
        if (reference.length != actual.length) {
            throw new KernelMismatch(what + ": " + actual.length + " elements, expected " + reference.length);
        }
        for (int j = 0; j < reference.length; j++) {
            if (!close(reference[j], actual[j])) {
                throw new KernelMismatch(String.format("%s[%d]: got %s (bits %08x), reference %s (bits %08x), tolerance %s + %s*|ref|",
                        what, j, actual[j], Float.floatToRawIntBits(actual[j]), reference[j],
                        Float.floatToRawIntBits(reference[j]), atol, rtol));
            }
        }
    }

    public boolean close(double reference, double actual) {
        if (Double.isNaN(reference) || Double.isNaN(actual)) {
            return Double.isNaN(reference) && Double.isNaN(actual);
        }
        if (Double.isInfinite(reference) || Double.isInfinite(actual)) {
            return reference == actual;
        }
        if (atol == 0 && rtol == 0) {
            return Float.floatToRawIntBits((float) reference) == Float.floatToRawIntBits((float) actual)
                    || reference == actual; // +0 and -0 compare equal
        }
        return Math.abs(actual - reference) <= atol + rtol * Math.abs(reference);
    }
}
