package ai.lethe.kernels;

/** The readable reference of {@link HeadKernels}: one sample at a time, sums in double. */
final class ScalarHead implements HeadKernels {

    static final ScalarHead INSTANCE = new ScalarHead();

    private ScalarHead() {
    }

    @Override
    public void backward(int n, int in, int hidden, int classes, float[] input, float[] w1, float[] b1, float[] w2, float[] b2,
                         int[] labels, boolean absolute, float[] w1Sums, float[] b1Sums, float[] w2Sums, float[] b2Sums, float[] inputGrad) {
        HeadKernels.checkSizes(n, in, hidden, classes, input, w1, b1, w2, b2, labels, w1Sums, b1Sums, w2Sums, b2Sums, inputGrad);
        double[] z = new double[hidden], h = new double[hidden], logits = new double[classes], dLogits = new double[classes];
        double[] dz = new double[hidden];
        double[] w1Acc = new double[hidden * in], b1Acc = new double[hidden], w2Acc = new double[classes * hidden], b2Acc = new double[classes];
        for (int s = 0; s < n; s++) {
            int row = s * in;
            for (int j = 0; j < hidden; j++) {
                double acc = b1[j];
                for (int f = 0; f < in; f++) {
                    acc += (double) input[row + f] * w1[j * in + f];
                }
                z[j] = acc;
                h[j] = Math.max(acc, 0);
            }
            for (int c = 0; c < classes; c++) {
                double acc = b2[c];
                for (int j = 0; j < hidden; j++) {
                    acc += h[j] * w2[c * hidden + j];
                }
                logits[c] = acc;
            }
            if (labels == null) { // d Σ logits² = 2 logits
                for (int c = 0; c < classes; c++) {
                    dLogits[c] = 2 * logits[c];
                }
            } else { // d cross-entropy = softmax − one-hot
                double max = Double.NEGATIVE_INFINITY;
                for (double v : logits) {
                    max = Math.max(max, v);
                }
                double total = 0;
                for (int c = 0; c < classes; c++) {
                    dLogits[c] = Math.exp(logits[c] - max);
                    total += dLogits[c];
                }
                for (int c = 0; c < classes; c++) {
                    dLogits[c] = dLogits[c] / total - (c == labels[s] ? 1 : 0);
                }
            }
            for (int j = 0; j < hidden; j++) {
                double acc = 0;
                for (int c = 0; c < classes; c++) {
                    acc += dLogits[c] * w2[c * hidden + j];
                }
                dz[j] = z[j] > 0 ? acc : 0; // the ReLU passes where its output is positive
            }
            for (int f = 0; f < in; f++) {
                double acc = 0;
                for (int j = 0; j < hidden; j++) {
                    acc += dz[j] * w1[j * in + f];
                }
                inputGrad[row + f] = (float) acc;
            }
            for (int j = 0; j < hidden; j++) {
                for (int f = 0; f < in; f++) {
                    w1Acc[j * in + f] += f(dz[j] * input[row + f], absolute);
                }
                b1Acc[j] += f(dz[j], absolute);
            }
            for (int c = 0; c < classes; c++) {
                for (int j = 0; j < hidden; j++) {
                    w2Acc[c * hidden + j] += f(dLogits[c] * h[j], absolute);
                }
                b2Acc[c] += f(dLogits[c], absolute);
            }
        }
        add(w1Sums, w1Acc);
        add(b1Sums, b1Acc);
        add(w2Sums, w2Acc);
        add(b2Sums, b2Acc);
    }

    private static double f(double g, boolean absolute) {
        return absolute ? Math.abs(g) : g * g;
    }

    private static void add(float[] sums, double[] acc) {
        for (int i = 0; i < acc.length; i++) {
            sums[i] += (float) acc[i];
        }
    }
}
