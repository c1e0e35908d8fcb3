package ai.lethe.kernels;

/**
 * The per-sample backward of a two-layer head — fc1, ReLU, fc2 and the loss — on the host: each sample's squared
 * (or absolute) parameter gradients summed over the samples, and the gradient at the head's input, from one
 * forward and backward over the batch. The zoo cnn's per-sample route runs its head here instead of in libtorch,
 * whose calls on a batch of 64 cost more than their arithmetic.
 *
 * <p>Losses as the per-sample estimator sums them: cross-entropy (labels given) and the label-free Σ logits²
 * (labels null). Two implementations that must agree: {@link #scalar()}, the readable reference (double sums), and
 * {@link #vector()}, Vector API loops (fp32) on the calling thread.
 *
 * <p>Layouts: input [n][in]; w1 [hidden][in]; w2 [classes][hidden]; sums shaped as their parameter.
 */
public interface HeadKernels {

    /**
     * Adds Σ_n f(∂ℓ_n/∂θ) for θ = w1, b1, w2, b2 into the four sums, f the square or (with {@code absolute}) the
     * absolute value, and writes ∂(Σ_n ℓ_n)/∂input into {@code inputGrad} ([n][in]).
     *
     * @param labels the class of each sample (cross-entropy), or null for the label-free loss Σ logits²
     */
    void backward(int n, int in, int hidden, int classes, float[] input, float[] w1, float[] b1, float[] w2, float[] b2,
                  int[] labels, boolean absolute, float[] w1Sums, float[] b1Sums, float[] w2Sums, float[] b2Sums, float[] inputGrad);

    /** The scalar reference. */
    static HeadKernels scalar() {
        return ScalarHead.INSTANCE;
    }

    /** Vector API loops, or the scalar reference in a JVM without the Vector API module. */
    static HeadKernels vector() {
        if (!VectorKernels.apiAvailable()) {
            VectorKernels.warnNoVectorApi();
            return scalar();
        }
        return VectorHead.INSTANCE;
    }

    /** Throws unless the arrays hold what the sizes say (longer arrays are allowed: scratch is reused) and the labels are classes. */
    static void checkSizes(int n, int in, int hidden, int classes, float[] input, float[] w1, float[] b1, float[] w2, float[] b2,
                           int[] labels, float[] w1Sums, float[] b1Sums, float[] w2Sums, float[] b2Sums, float[] inputGrad) {
        if (n < 0 || in < 1 || hidden < 1 || classes < 1) {
            throw new IllegalArgumentException("head: needs samples >= 0 and positive sizes, got " + n + " samples, " + in + " -> "
                    + hidden + " -> " + classes);
        }
        require("input", input, (long) n * in);
        require("w1", w1, (long) hidden * in);
        require("b1", b1, hidden);
        require("w2", w2, (long) classes * hidden);
        require("b2", b2, classes);
        require("w1 sums", w1Sums, (long) hidden * in);
        require("b1 sums", b1Sums, hidden);
        require("w2 sums", w2Sums, (long) classes * hidden);
        require("b2 sums", b2Sums, classes);
        require("input gradient", inputGrad, (long) n * in);
        if (labels != null) {
            if (labels.length < n) {
                throw new IllegalArgumentException("head: " + labels.length + " labels for " + n + " samples");
            }
            for (int i = 0; i < n; i++) {
                if (labels[i] < 0 || labels[i] >= classes) {
                    throw new IllegalArgumentException("head: label " + labels[i] + " of sample " + i + " is not a class (0.." + (classes - 1) + ")");
                }
            }
        }
    }

    private static void require(String what, float[] a, long size) {
        if (a.length < size) {
            throw new IllegalArgumentException("head: " + what + " holds " + a.length + " floats, needs " + size);
        }
    }
}
