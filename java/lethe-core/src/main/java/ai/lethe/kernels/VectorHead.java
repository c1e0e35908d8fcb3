package ai.lethe.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link HeadKernels} in Vector API loops (fp32) on the calling thread. The three products over the input's width —
 * the hidden layer's forward (dot products), the gradient at the input and fc1's sums — run as blocks of two rows by
 * four (eight FMA chains, each loaded vector used twice or four times); the rest (hidden × classes per sample) is
 * scalar. Each block is a small method of its own with its accumulators inside one loop: on JDK 17 C2
 * boxes vectors carried through nested loops.
 */
final class VectorHead implements HeadKernels {

    static final VectorHead INSTANCE = new VectorHead();

    private static final VectorSpecies<Float> SPECIES = VectorApiKernels.SPECIES;
    private static final int LANES = SPECIES.length();

    private static final ThreadScratch SCRATCH = new ThreadScratch(4);

    private VectorHead() {
    }

    private static float[] scratch(int slot, long size) {
        return SCRATCH.floats(slot, size);
    }

    /**
     * {@inheritDoc}
     *
     * <p>No loop of its own: with the per-sample part inline, C2 compiled this method three times on a cold pass
     * (twice on-stack), each time with the product drivers and their one-vector helpers inlined, a second of compile
     * time in all on the one C2 thread the kernels wait for; now each part is compiled once, by itself.
     */
    @Override
    public void backward(int n, int in, int hidden, int classes, float[] input, float[] w1, float[] b1, float[] w2, float[] b2,
                         int[] labels, boolean absolute, float[] w1Sums, float[] b1Sums, float[] w2Sums, float[] b2Sums, float[] inputGrad) {
        HeadKernels.checkSizes(n, in, hidden, classes, input, w1, b1, w2, b2, labels, w1Sums, b1Sums, w2Sums, b2Sums, inputGrad);
        if (n == 0) {
            return;
        }
        float[] z = scratch(0, (long) n * hidden);
        Products p = new Products(in, hidden);
        p.hiddenLayer(n, input, w1, b1, z);
        float[] dz = scratch(1, (long) n * hidden), dzF = scratch(2, (long) n * hidden);
        smallPart(n, hidden, classes, z, w2, b2, labels, absolute, w2Sums, b2Sums, b1Sums, dz, dzF);
        p.inputGradient(n, dz, w1, inputGrad);
        float[] inputF = scratch(3, (long) n * in); // f(input): the squares (or |·|) of w1's per-sample gradient factor
        squaresOrAbs(input, n * in, absolute, inputF);
        p.firstLayerSums(n, dzF, inputF, w1Sums);
    }

    /**
     * The small part, sample by sample: ReLU, fc2, the loss's gradient, back through fc2 and the ReLU; the sums of fc2
     * and the biases. dz = the gradient at the hidden layer's input, dzF = f(dz) (its squares, or |·|).
     */
    private static void smallPart(int n, int hidden, int classes, float[] z, float[] w2, float[] b2, int[] labels, boolean absolute,
                                  float[] w2Sums, float[] b2Sums, float[] b1Sums, float[] dz, float[] dzF) {
        float[] h = new float[hidden], logits = new float[classes], dLogits = new float[classes];
        for (int s = 0; s < n; s++) {
            for (int j = 0; j < hidden; j++) {
                h[j] = Math.max(z[s * hidden + j], 0f);
            }
            for (int c = 0; c < classes; c++) {
                float acc = b2[c];
                for (int j = 0; j < hidden; j++) {
                    acc = Math.fma(h[j], w2[c * hidden + j], acc);
                }
                logits[c] = acc;
            }
            lossGradient(logits, labels == null ? -1 : labels[s], dLogits);
            for (int c = 0; c < classes; c++) {
                float g = dLogits[c];
                b2Sums[c] += absolute ? Math.abs(g) : g * g;
                for (int j = 0; j < hidden; j++) {
                    float w = g * h[j];
                    w2Sums[c * hidden + j] += absolute ? Math.abs(w) : w * w;
                }
            }
            for (int j = 0; j < hidden; j++) {
                float acc = 0f;
                for (int c = 0; c < classes; c++) {
                    acc = Math.fma(dLogits[c], w2[c * hidden + j], acc);
                }
                float g = z[s * hidden + j] > 0 ? acc : 0f; // the ReLU passes where its output is positive
                dz[s * hidden + j] = g;
                dzF[s * hidden + j] = absolute ? Math.abs(g) : g * g;
                b1Sums[j] += dzF[s * hidden + j];
            }
        }
    }

    /** into[i] = |values[i]| or values[i]² for i < count. */
    private static void squaresOrAbs(float[] values, int count, boolean absolute, float[] into) {
        for (int i = 0; i < count; i++) {
            into[i] = absolute ? Math.abs(values[i]) : values[i] * values[i];
        }
    }

    /** The gradient of one sample's loss at its logits: softmax − one-hot (cross-entropy), or 2·logits (label == -1). */
    private static void lossGradient(float[] logits, int label, float[] out) {
        if (label < 0) {
            for (int c = 0; c < logits.length; c++) {
                out[c] = 2f * logits[c];
            }
            return;
        }
        float max = Float.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double total = 0;
        for (int c = 0; c < logits.length; c++) {
            total += Math.exp(logits[c] - max);
        }
        for (int c = 0; c < logits.length; c++) {
            out[c] = (float) (Math.exp(logits[c] - max) / total) - (c == label ? 1f : 0f);
        }
    }

    /** The three products over the input's width, in blocks of two rows by four vectors. */
    private static final class Products {
        final int in;
        final int hidden;

        Products(int in, int hidden) {
            this.in = in;
            this.hidden = hidden;
        }

        /**
         * z[s][j] = b1[j] + Σ_f input[s][f] · w1[j][f]: dot products with lanes over the width, two samples by four
         * hidden units at a time (no transposed copy of w1, which cost more than the lane sums at the end).
         */
        void hiddenLayer(int n, float[] input, float[] w1, float[] b1, float[] z) {
            int s = 0;
            for (; s + 2 <= n; s += 2) {
                int j = 0;
                for (; j + 4 <= hidden; j += 4) {
                    dots2x4(s, j, input, w1, b1, z);
                }
                for (; j < hidden; j++) {
                    z[s * hidden + j] = dot(s, j, input, w1, b1);
                    z[(s + 1) * hidden + j] = dot(s + 1, j, input, w1, b1);
                }
            }
            for (; s < n; s++) {
                for (int j = 0; j < hidden; j++) {
                    z[s * hidden + j] = dot(s, j, input, w1, b1);
                }
            }
        }

        private void dots2x4(int s, int j, float[] input, float[] w1, float[] b1, float[] z) {
            FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
            int r0 = s * in, r1 = r0 + in, w0 = j * in;
            int fBound = SPECIES.loopBound(in);
            for (int f = 0; f < fBound; f += LANES) {
                FloatVector x0 = FloatVector.fromArray(SPECIES, input, r0 + f), x1 = FloatVector.fromArray(SPECIES, input, r1 + f);
                FloatVector v0 = FloatVector.fromArray(SPECIES, w1, w0 + f), v1 = FloatVector.fromArray(SPECIES, w1, w0 + in + f);
                FloatVector v2 = FloatVector.fromArray(SPECIES, w1, w0 + 2 * in + f), v3 = FloatVector.fromArray(SPECIES, w1, w0 + 3 * in + f);
                a0 = v0.fma(x0, a0);
                a1 = v1.fma(x0, a1);
                a2 = v2.fma(x0, a2);
                a3 = v3.fma(x0, a3);
                c0 = v0.fma(x1, c0);
                c1 = v1.fma(x1, c1);
                c2 = v2.fma(x1, c2);
                c3 = v3.fma(x1, c3);
            }
            float[] t = {a0.reduceLanes(VectorOperators.ADD), a1.reduceLanes(VectorOperators.ADD), a2.reduceLanes(VectorOperators.ADD),
                a3.reduceLanes(VectorOperators.ADD), c0.reduceLanes(VectorOperators.ADD), c1.reduceLanes(VectorOperators.ADD),
                c2.reduceLanes(VectorOperators.ADD), c3.reduceLanes(VectorOperators.ADD)};
            for (int f = fBound; f < in; f++) { // the width past the last whole vector
                for (int u = 0; u < 4; u++) {
                    t[u] = Math.fma(input[r0 + f], w1[w0 + u * in + f], t[u]);
                    t[4 + u] = Math.fma(input[r1 + f], w1[w0 + u * in + f], t[4 + u]);
                }
            }
            for (int u = 0; u < 4; u++) {
                z[s * hidden + j + u] = t[u] + b1[j + u];
                z[(s + 1) * hidden + j + u] = t[4 + u] + b1[j + u];
            }
        }

        private float dot(int s, int j, float[] input, float[] w1, float[] b1) {
            FloatVector a0 = FloatVector.zero(SPECIES);
            int r0 = s * in, w0 = j * in;
            int fBound = SPECIES.loopBound(in);
            for (int f = 0; f < fBound; f += LANES) {
                a0 = FloatVector.fromArray(SPECIES, w1, w0 + f).fma(FloatVector.fromArray(SPECIES, input, r0 + f), a0);
            }
            float t = a0.reduceLanes(VectorOperators.ADD);
            for (int f = fBound; f < in; f++) {
                t = Math.fma(input[r0 + f], w1[w0 + f], t);
            }
            return t + b1[j];
        }

        /** inputGrad[s][f] = Σ_j dz[s][j] · w1[j][f]: lanes over the input's width. */
        void inputGradient(int n, float[] dz, float[] w1, float[] inputGrad) {
            int fBound = SPECIES.loopBound(in);
            int s = 0;
            for (; s + 2 <= n; s += 2) {
                int f = 0;
                for (; f + 4 * LANES <= fBound; f += 4 * LANES) {
                    inputGradient2x4(s, f, dz, w1, inputGrad);
                }
                for (; f < fBound; f += LANES) {
                    inputGradient1(s, f, dz, w1, inputGrad);
                    inputGradient1(s + 1, f, dz, w1, inputGrad);
                }
            }
            for (; s < n; s++) {
                for (int f = 0; f < fBound; f += LANES) {
                    inputGradient1(s, f, dz, w1, inputGrad);
                }
            }
            for (s = 0; s < n; s++) {
                for (int f = fBound; f < in; f++) {
                    float acc = 0f;
                    for (int j = 0; j < hidden; j++) {
                        acc = Math.fma(dz[s * hidden + j], w1[j * in + f], acc);
                    }
                    inputGrad[s * in + f] = acc;
                }
            }
        }

        private void inputGradient2x4(int s, int f, float[] dz, float[] w1, float[] inputGrad) {
            FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
            int d0 = s * hidden, d1 = d0 + hidden;
            for (int j = 0, w = f; j < hidden; j++, w += in) {
                FloatVector g0 = FloatVector.broadcast(SPECIES, dz[d0 + j]), g1 = FloatVector.broadcast(SPECIES, dz[d1 + j]);
                FloatVector v0 = FloatVector.fromArray(SPECIES, w1, w), v1 = FloatVector.fromArray(SPECIES, w1, w + LANES);
                FloatVector v2 = FloatVector.fromArray(SPECIES, w1, w + 2 * LANES), v3 = FloatVector.fromArray(SPECIES, w1, w + 3 * LANES);
                a0 = v0.fma(g0, a0);
                a1 = v1.fma(g0, a1);
                a2 = v2.fma(g0, a2);
                a3 = v3.fma(g0, a3);
                c0 = v0.fma(g1, c0);
                c1 = v1.fma(g1, c1);
                c2 = v2.fma(g1, c2);
                c3 = v3.fma(g1, c3);
            }
            int o0 = s * in + f, o1 = o0 + in;
            a0.intoArray(inputGrad, o0);
            a1.intoArray(inputGrad, o0 + LANES);
            a2.intoArray(inputGrad, o0 + 2 * LANES);
            a3.intoArray(inputGrad, o0 + 3 * LANES);
            c0.intoArray(inputGrad, o1);
            c1.intoArray(inputGrad, o1 + LANES);
            c2.intoArray(inputGrad, o1 + 2 * LANES);
            c3.intoArray(inputGrad, o1 + 3 * LANES);
        }

        private void inputGradient1(int s, int f, float[] dz, float[] w1, float[] inputGrad) {
            FloatVector a0 = FloatVector.zero(SPECIES);
            for (int j = 0, w = f; j < hidden; j++, w += in) {
                a0 = FloatVector.fromArray(SPECIES, w1, w).fma(FloatVector.broadcast(SPECIES, dz[s * hidden + j]), a0);
            }
            a0.intoArray(inputGrad, s * in + f);
        }

        /** w1Sums[j][f] += Σ_s dzF[s][j] · inputF[s][f] (f(g·a) = f(g)·f(a) for the square and |·|): lanes over the width. */
        void firstLayerSums(int n, float[] dzF, float[] inputF, float[] w1Sums) {
            int fBound = SPECIES.loopBound(in);
            int j = 0;
            for (; j + 2 <= hidden; j += 2) {
                int f = 0;
                for (; f + 4 * LANES <= fBound; f += 4 * LANES) {
                    sums2x4(n, j, f, dzF, inputF, w1Sums);
                }
                for (; f < fBound; f += LANES) {
                    sums1(n, j, f, dzF, inputF, w1Sums);
                    sums1(n, j + 1, f, dzF, inputF, w1Sums);
                }
            }
            for (; j < hidden; j++) {
                for (int f = 0; f < fBound; f += LANES) {
                    sums1(n, j, f, dzF, inputF, w1Sums);
                }
            }
            for (j = 0; j < hidden; j++) {
                for (int f = fBound; f < in; f++) {
                    float acc = 0f;
                    for (int s = 0; s < n; s++) {
                        acc = Math.fma(dzF[s * hidden + j], inputF[s * in + f], acc);
                    }
                    w1Sums[j * in + f] += acc;
                }
            }
        }

        private void sums2x4(int n, int j, int f, float[] dzF, float[] inputF, float[] w1Sums) {
            FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
            for (int s = 0, x = f, d = j; s < n; s++, x += in, d += hidden) {
                FloatVector g0 = FloatVector.broadcast(SPECIES, dzF[d]), g1 = FloatVector.broadcast(SPECIES, dzF[d + 1]);
                FloatVector v0 = FloatVector.fromArray(SPECIES, inputF, x), v1 = FloatVector.fromArray(SPECIES, inputF, x + LANES);
                FloatVector v2 = FloatVector.fromArray(SPECIES, inputF, x + 2 * LANES), v3 = FloatVector.fromArray(SPECIES, inputF, x + 3 * LANES);
                a0 = v0.fma(g0, a0);
                a1 = v1.fma(g0, a1);
                a2 = v2.fma(g0, a2);
                a3 = v3.fma(g0, a3);
                c0 = v0.fma(g1, c0);
                c1 = v1.fma(g1, c1);
                c2 = v2.fma(g1, c2);
                c3 = v3.fma(g1, c3);
            }
            int o0 = j * in + f, o1 = o0 + in;
            a0.add(FloatVector.fromArray(SPECIES, w1Sums, o0)).intoArray(w1Sums, o0);
            a1.add(FloatVector.fromArray(SPECIES, w1Sums, o0 + LANES)).intoArray(w1Sums, o0 + LANES);
            a2.add(FloatVector.fromArray(SPECIES, w1Sums, o0 + 2 * LANES)).intoArray(w1Sums, o0 + 2 * LANES);
            a3.add(FloatVector.fromArray(SPECIES, w1Sums, o0 + 3 * LANES)).intoArray(w1Sums, o0 + 3 * LANES);
            c0.add(FloatVector.fromArray(SPECIES, w1Sums, o1)).intoArray(w1Sums, o1);
            c1.add(FloatVector.fromArray(SPECIES, w1Sums, o1 + LANES)).intoArray(w1Sums, o1 + LANES);
            c2.add(FloatVector.fromArray(SPECIES, w1Sums, o1 + 2 * LANES)).intoArray(w1Sums, o1 + 2 * LANES);
            c3.add(FloatVector.fromArray(SPECIES, w1Sums, o1 + 3 * LANES)).intoArray(w1Sums, o1 + 3 * LANES);
        }

        private void sums1(int n, int j, int f, float[] dzF, float[] inputF, float[] w1Sums) {
            FloatVector a0 = FloatVector.zero(SPECIES);
            for (int s = 0, x = f; s < n; s++, x += in) {
                a0 = FloatVector.fromArray(SPECIES, inputF, x).fma(FloatVector.broadcast(SPECIES, dzF[s * hidden + j]), a0);
            }
            int o0 = j * in + f;
            a0.add(FloatVector.fromArray(SPECIES, w1Sums, o0)).intoArray(w1Sums, o0);
        }
    }
}
