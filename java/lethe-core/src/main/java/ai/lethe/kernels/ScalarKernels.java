package ai.lethe.kernels;

/**
 * The reference back end: plain loops, one thread, written to be read. Tests compare the other back
 * ends against it; sums are kept in double so the reference is the most exact of the three.
 */
public final class ScalarKernels extends HostKernels {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public String description() {
        return "scalar reference (1 thread)";
    }

    @Override
    protected void doCopy(TensorList src, TensorList dst) {
        float[][] s = arrays(src);
        float[][] d = arrays(dst);
        for (int t = 0; t < s.length; t++) {
            for (int j = 0; j < s[t].length; j++) {
                d[t][j] = s[t][j];
            }
        }
    }

    @Override
    protected void doFill(TensorList x, float value) {
        for (float[] a : arrays(x)) {
            for (int j = 0; j < a.length; j++) {
                a[j] = value;
            }
        }
    }

    @Override
    protected void doScale(TensorList x, float a) {
        for (float[] v : arrays(x)) {
            for (int j = 0; j < v.length; j++) {
                v[j] = v[j] * a;
            }
        }
    }

    @Override
    protected void doDivide(TensorList dst, TensorList src, float divisor) {
        float[][] ds = arrays(dst);
        float[][] ss = arrays(src);
        for (int t = 0; t < ds.length; t++) {
            for (int j = 0; j < ds[t].length; j++) {
                ds[t][j] = ss[t][j] / divisor;
            }
        }
    }

    @Override
    protected void doScaleAdd(TensorList y, TensorList x, float a) {
        float[][] ys = arrays(y);
        float[][] xs = arrays(x);
        for (int t = 0; t < ys.length; t++) {
            for (int j = 0; j < ys[t].length; j++) {
                ys[t][j] = ys[t][j] + a * xs[t][j];
            }
        }
    }

    @Override
    protected void doSgdStep(TensorList theta, TensorList velocity, TensorList grad, TensorList mask, float lr,
                             float momentum, float weightDecay) {
        float[][] th = arrays(theta);
        float[][] vs = arrays(velocity);
        float[][] gs = arrays(grad);
        float[][] ms = null;
        if (mask != null) {
            ms = arrays(mask);
        }
        for (int t = 0; t < th.length; t++) {
            for (int j = 0; j < th[t].length; j++) {
                float d = gs[t][j] + weightDecay * th[t][j];
                d = d * (ms == null ? 1f : ms[t][j]);
                vs[t][j] = momentum * vs[t][j] + d;
                th[t][j] = th[t][j] - lr * vs[t][j];
            }
        }
    }

    @Override
    protected void doAccumulateSquare(TensorList acc, TensorList g, float scale) {
        float[][] as = arrays(acc);
        float[][] gs = arrays(g);
        long bad = 0;
        for (int t = 0; t < as.length; t++) {
            float[] a = as[t];
            float[] gr = gs[t];
            for (int j = 0; j < a.length; j++) {
                a[j] = a[j] + scale * (gr[j] * gr[j]);
                bad += Float.isFinite(gr[j]) ? 0 : 1;
            }
        }
        gradientNonFinite.addAndGet(bad);
    }

    @Override
    protected void doAccumulateAbs(TensorList acc, TensorList g, float scale) {
        float[][] as = arrays(acc);
        float[][] gs = arrays(g);
        long bad = 0;
        for (int t = 0; t < as.length; t++) {
            float[] a = as[t];
            float[] gr = gs[t];
            for (int j = 0; j < a.length; j++) {
                a[j] = a[j] + scale * Math.abs(gr[j]);
                bad += Float.isFinite(gr[j]) ? 0 : 1;
            }
        }
        gradientNonFinite.addAndGet(bad);
    }

    /** Each W_n element as a dot product in double, squared (or made absolute) and summed over n in double. */
    @Override
    protected void doAccumulatePerSampleProducts(TensorList acc, TensorList g, TensorList u, int samples, int rows,
                                                 int cols, int positions, boolean absolute) {
        float[] a = arrays(acc)[0];
        float[] gs = arrays(g)[0];
        float[] us = arrays(u)[0];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double sum = 0;
                for (int n = 0; n < samples; n++) {
                    int gRow = (n * rows + i) * positions;
                    int uRow = (n * cols + j) * positions;
                    double w = 0;
                    for (int p = 0; p < positions; p++) {
                        w += (double) gs[gRow + p] * us[uRow + p];
                    }
                    sum += absolute ? Math.abs(w) : w * w;
                }
                a[i * cols + j] = (float) (a[i * cols + j] + sum);
            }
        }
    }

    /** Each W_n element as a sum in double over the output positions whose window element lies in the input. */
    @Override
    protected void doAccumulateConvPerSampleProducts(TensorList acc, TensorList g, TensorList a, ConvGeometry conv,
                                                     boolean absolute) {
        float[] w = arrays(acc)[0];
        float[] gs = arrays(g)[0];
        float[] as = arrays(a)[0];
        int ci = conv.inChannels(), co = conv.outChannels(), k = conv.kernel();
        int ih = conv.inHeight(), iw = conv.inWidth(), oh = conv.outHeight(), ow = conv.outWidth();
        for (int o = 0; o < co; o++) {
            for (int c = 0; c < ci; c++) {
                for (int ky = 0; ky < k; ky++) {
                    for (int kx = 0; kx < k; kx++) {
                        double sum = 0;
                        for (int n = 0; n < conv.samples(); n++) {
                            double wn = 0;
                            for (int y = 0; y < oh; y++) {
                                int iy = y * conv.stride() - conv.padding() + ky;
                                for (int x = 0; x < ow; x++) {
                                    int ix = x * conv.stride() - conv.padding() + kx;
                                    if (iy >= 0 && iy < ih && ix >= 0 && ix < iw) {
                                        wn += (double) gs[((n * oh + y) * ow + x) * co + o] * as[((n * ih + iy) * iw + ix) * ci + c];
                                    }
                                }
                            }
                            sum += absolute ? Math.abs(wn) : wn * wn;
                        }
                        int e = ((o * ci + c) * k + ky) * k + kx;
                        w[e] = (float) (w[e] + sum);
                    }
                }
            }
        }
    }

    @Override
    protected long doSsdDampen(TensorList theta, TensorList importanceFull, TensorList importanceForget, float alpha,
                               float lambda) {
        float[][] th = arrays(theta);
        float[][] ids = arrays(importanceFull);
        float[][] ifs = arrays(importanceForget);
        long selected = 0;
        for (int t = 0; t < th.length; t++) {
            for (int j = 0; j < th[t].length; j++) {
                float iD = ids[t][j];
                float iF = ifs[t][j];
                if (iF > iD * alpha) {
                    float beta = (iD * lambda) / iF;
                    beta = beta > 1f ? 1f : beta; // not Math.min: a NaN factor must stay NaN, as torch.clamp keeps it
                    th[t][j] = th[t][j] * beta;
                    selected++;
                }
            }
        }
        return selected;
    }

    @Override
    protected long doRatioReset(TensorList theta, TensorList mask, TensorList importanceForget,
                                TensorList importanceRetain, float epsilon, float gamma) {
        float[][] th = arrays(theta);
        float[][] ms = arrays(mask);
        float[][] ifs = arrays(importanceForget);
        float[][] irs = arrays(importanceRetain);
        long reset = 0;
        for (int t = 0; t < th.length; t++) {
            for (int j = 0; j < th[t].length; j++) {
                if (RatioKeys.ratio(ifs[t][j], irs[t][j], epsilon) > gamma) {
                    th[t][j] = 0f;
                    ms[t][j] = 1f;
                    reset++;
                } else {
                    ms[t][j] = 0f;
                }
            }
        }
        return reset;
    }

    @Override
    protected long[] doRatioHistogram(TensorList importanceForget, TensorList importanceRetain, float epsilon, int shift,
                                      int bits, int prefix, int prefixMask) {
        float[][] ifs = arrays(importanceForget);
        float[][] irs = arrays(importanceRetain);
        long[] bins = new long[1 << bits];
        int digitMask = (1 << bits) - 1;
        for (int t = 0; t < ifs.length; t++) {
            for (int j = 0; j < ifs[t].length; j++) {
                int key = RatioKeys.key(RatioKeys.ratio(ifs[t][j], irs[t][j], epsilon));
                if ((key & prefixMask) == prefix) {
                    bins[(key >>> shift) & digitMask]++;
                }
            }
        }
        return bins;
    }

    @Override
    protected float[] doRatioShift(TensorList w, TensorList fisherForget, TensorList fisherRetain, float sign,
                                   float lambda1, float lambda2) {
        float[][] ws = arrays(w);
        float[][] ffs = arrays(fisherForget);
        float[][] frs = arrays(fisherRetain);
        float[] alphas = new float[ws.length];
        for (int t = 0; t < ws.length; t++) {
            // Pass 1: the largest η whose d is finite, and whether d is NaN or ±inf anywhere.
            float maxFinite = Float.NEGATIVE_INFINITY;
            boolean sawNaN = false;
            boolean sawInf = false;
            for (int j = 0; j < ws[t].length; j++) {
                switch (MnemonicMath.classify(ffs[t][j], frs[t][j])) {
                    case MnemonicMath.NAN -> sawNaN = true;
                    case MnemonicMath.INFINITE -> sawInf = true;
                    default -> maxFinite = Math.max(maxFinite, MnemonicMath.quotient(ffs[t][j], frs[t][j]));
                }
            }
            float infFill = MnemonicMath.infFill(maxFinite);
            float alpha = MnemonicMath.alpha(maxFinite, sawNaN, sawInf, lambda1, lambda2);
            alphas[t] = alpha;
            // Pass 2: the update.
            for (int j = 0; j < ws[t].length; j++) {
                float step = alpha * MnemonicMath.eta(ffs[t][j], frs[t][j], infFill);
                ws[t][j] = sign > 0 ? ws[t][j] + step : ws[t][j] - step;
            }
        }
        return alphas;
    }

    @Override
    protected TensorStats[] doStats(TensorList x) {
        float[][] xs = arrays(x);
        TensorStats[] out = new TensorStats[xs.length];
        for (int t = 0; t < xs.length; t++) {
            double sum = 0;
            float max = Float.NEGATIVE_INFINITY;
            long bad = 0;
            for (float v : xs[t]) {
                if (Float.isFinite(v)) {
                    sum += v;
                    max = Math.max(max, v);
                } else {
                    bad++;
                }
            }
            out[t] = new TensorStats(xs[t].length, sum, max, bad);
        }
        return out;
    }
}
