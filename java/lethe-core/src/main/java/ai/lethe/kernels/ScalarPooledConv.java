package ai.lethe.kernels;

/** The readable reference of {@link PooledConvKernels}: one sample, one window, one channel at a time, sums in double. */
final class ScalarPooledConv implements PooledConvKernels {

    static final ScalarPooledConv INSTANCE = new ScalarPooledConv();

    private ScalarPooledConv() {
    }

    @Override
    public PooledConvKernels onThreads(int threads) {
        return this;
    }

    @Override
    public HeadKernels head() {
        return HeadKernels.scalar();
    }

    @Override
    public void poolRelu(float[] conv, int samples, int height, int width, int channels, float[] pooled, float[] winner) {
        PooledConvKernels.checkPoolSizes(conv, samples, height, width, channels, pooled, winner);
        int ph = height / 2, pw = width / 2;
        for (int n = 0; n < samples; n++) {
            for (int qy = 0; qy < ph; qy++) {
                for (int qx = 0; qx < pw; qx++) {
                    for (int c = 0; c < channels; c++) {
                        float best = Float.NEGATIVE_INFINITY;
                        int win = 0;
                        for (int t = 0; t < 4; t++) {
                            float v = conv[((n * height + 2 * qy + (t >> 1)) * width + 2 * qx + (t & 1)) * channels + c];
                            if (v > best || Float.isNaN(v)) { // libtorch's rule: a later position wins only if larger
                                best = v;
                                win = t;
                                if (Float.isNaN(v)) {
                                    break;
                                }
                            }
                        }
                        int q = ((n * ph + qy) * pw + qx) * channels + c;
                        pooled[q] = Float.isNaN(best) ? best : Math.max(best, 0f);
                        winner[q] = win;
                    }
                }
            }
        }
    }

    @Override
    public void convPoolRelu(PooledConvGeometry g, float[] input, float[] weight, float[] bias, float[] pooled, float[] winner) {
        PooledConvKernels.checkForwardSizes(g, input, weight, bias, pooled, winner);
        int cin = g.inChannels(), cout = g.outChannels(), k = g.kernel(), pad = g.padding();
        int inH = g.inHeight(), inW = g.inWidth(), outH = g.outHeight(), outW = g.outWidth();
        float[] conv = new float[outH * outW * cout]; // one sample's output, channels-last
        for (int n = 0; n < g.samples(); n++) {
            for (int y = 0; y < outH; y++) {
                for (int x = 0; x < outW; x++) {
                    for (int o = 0; o < cout; o++) {
                        float acc = 0f;
                        for (int ky = 0; ky < k; ky++) {
                            for (int kx = 0; kx < k; kx++) {
                                for (int c = 0; c < cin; c++) {
                                    int iy = y + ky - pad, ix = x + kx - pad;
                                    float v = iy < 0 || iy >= inH || ix < 0 || ix >= inW ? 0f
                                            : input[n * g.inputPerSample() + (iy * inW + ix) * cin + c];
                                    acc = Math.fma(weight[((o * cin + c) * k + ky) * k + kx], v, acc);
                                }
                            }
                        }
                        conv[(y * outW + x) * cout + o] = acc + bias[o];
                    }
                }
            }
            float[] pooledOne = new float[g.pooledPerSample()], winnerOne = new float[g.pooledPerSample()];
            poolRelu(conv, 1, outH, outW, cout, pooledOne, winnerOne);
            System.arraycopy(pooledOne, 0, pooled, n * g.pooledPerSample(), g.pooledPerSample());
            System.arraycopy(winnerOne, 0, winner, n * g.pooledPerSample(), g.pooledPerSample());
        }
    }

    @Override
    public void backward(PooledConvGeometry g, float[] input, float[] weight, float[] pooledGrad, float[] pooled,
                         float[] winner, boolean absolute, float[] weightSums, float[] biasSums, float[] inputGrad) {
        PooledConvKernels.checkSizes(g, input, weight, pooledGrad, pooled, winner, weightSums, biasSums, inputGrad);
        int cin = g.inChannels(), cout = g.outChannels(), k = g.kernel(), pad = g.padding();
        int inH = g.inHeight(), inW = g.inWidth(), ph = g.pooledHeight(), pw = g.pooledWidth();
        double[] w = new double[g.weightSize()];
        double[] b = new double[cout];
        double[] dx = new double[g.inputPerSample()];
        for (int n = 0; n < g.samples(); n++) {
            java.util.Arrays.fill(w, 0);
            java.util.Arrays.fill(b, 0);
            java.util.Arrays.fill(dx, 0);
            for (int qy = 0; qy < ph; qy++) {
                for (int qx = 0; qx < pw; qx++) {
                    for (int o = 0; o < cout; o++) {
                        int q = ((n * ph + qy) * pw + qx) * cout + o;
                        if (!(pooled[q] > 0)) {
                            continue; // the ReLU passed nothing
                        }
                        double grad = pooledGrad[q];
                        int win = (int) winner[q];
                        int y = 2 * qy + (win >> 1), x = 2 * qx + (win & 1); // the winning output position
                        b[o] += grad;
                        for (int c = 0; c < cin; c++) {
                            for (int ky = 0; ky < k; ky++) {
                                int iy = y + ky - pad;
                                if (iy < 0 || iy >= inH) {
                                    continue;
                                }
                                for (int kx = 0; kx < k; kx++) {
                                    int ix = x + kx - pad;
                                    if (ix < 0 || ix >= inW) {
                                        continue;
                                    }
                                    int a = (iy * inW + ix) * cin + c;
                                    int wi = ((o * cin + c) * k + ky) * k + kx;
                                    w[wi] += grad * input[n * g.inputPerSample() + a];
                                    dx[a] += grad * weight[wi];
                                }
                            }
                        }
                    }
                }
            }
            for (int j = 0; j < w.length; j++) {
                weightSums[j] += (float) (absolute ? Math.abs(w[j]) : w[j] * w[j]);
            }
            for (int o = 0; o < cout; o++) {
                biasSums[o] += (float) (absolute ? Math.abs(b[o]) : b[o] * b[o]);
            }
            if (inputGrad != null) {
                for (int j = 0; j < dx.length; j++) {
                    inputGrad[n * g.inputPerSample() + j] = (float) dx[j];
                }
            }
        }
    }
}
