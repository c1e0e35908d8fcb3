package ai.lethe.profile;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import ai.lethe.importance.Importance;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.kernels.TensorStats;
import ai.lethe.kernels.cuda.CudaKernels;
import ai.lethe.model.ParameterInfo;

/** The measurements a profile adds after the run: a same-run copy, per-tensor statistics, the ratio histogram. */
public final class Profiling {

    /** log10(I_f/I_D) from −4 to 4 in steps of 0.25; values beyond go to the end bins. */
    static final double LOW = -4;
    static final double STEP = 0.25;
    static final int BINS = 32;

    private Profiling() {
    }

    /**
     * GB/s of a plain copy of buffers of these sizes on this back end (median of 15, 8 bytes per element): on
     * CUDA a device-to-device cudaMemcpy timed with events, as {@code lethe bench kernels} measures it.
     */
    public static double copyGbps(Kernels kernels, long[] sizes) {
        long n = Arrays.stream(sizes).sum();
        CudaKernels cuda = kernels instanceof CudaKernels c ? c : null;
        try (TensorList a = kernels.allocate(sizes); TensorList b = kernels.allocate(sizes)) {
            double[] ms = new double[15];
            for (int i = -5; i < ms.length; i++) {
                double m;
                if (cuda != null) {
                    m = cuda.deviceMillis(() -> cuda.memcpy(a, b));
                } else {
                    long t = System.nanoTime();
                    kernels.copy(a, b);
                    m = (System.nanoTime() - t) / 1e6;
                }
                if (i >= 0) {
                    ms[i] = m;
                }
            }
            Arrays.sort(ms);
            return 8.0 * n / (ms[ms.length / 2] * 1e6);
        }
    }

    /**
     * Per-tensor statistics of the importances (null where a method computed none), the fraction of each
     * tensor SSD's rule selects (when {@code alpha} is given), and the fraction whose value changed.
     */
    public static List<ProfileReport.TensorRow> tensors(List<ParameterInfo> params, Importance full, Importance forget,
                                                        float[][] before, float[][] after, Float alpha, Kernels kernels) {
        TensorStats[] fullStats = stats(full, kernels);
        TensorStats[] forgetStats = stats(forget, kernels);
        List<ProfileReport.TensorRow> out = new ArrayList<>();
        for (int t = 0; t < params.size(); t++) {
            long numel = params.get(t).numel();
            long changed = 0;
            for (int j = 0; j < before[t].length; j++) {
                changed += Float.floatToRawIntBits(before[t][j]) != Float.floatToRawIntBits(after[t][j]) ? 1 : 0;
            }
            Double selected = null;
            if (alpha != null && full != null && forget != null) {
                float[] d = full.values()[t];
                float[] f = forget.values()[t];
                long s = 0;
                for (int j = 0; j < d.length; j++) {
                    s += f[j] > d[j] * alpha ? 1 : 0;
                }
                selected = (double) s / numel;
            }
            long bad = 0; // elements where either importance is NaN or infinite, each counted once
            if (fullStats != null && forgetStats != null) {
                if (fullStats[t].nonFinite() + forgetStats[t].nonFinite() > 0) {
                    float[] d = full.values()[t];
                    float[] f = forget.values()[t];
                    for (int j = 0; j < d.length; j++) {
                        bad += Float.isFinite(d[j]) && Float.isFinite(f[j]) ? 0 : 1;
                    }
                }
            } else {
                bad = fullStats != null ? fullStats[t].nonFinite() : forgetStats != null ? forgetStats[t].nonFinite() : 0;
            }
            out.add(new ProfileReport.TensorRow(params.get(t).name(), numel,
                    fullStats == null ? null : fullStats[t].mean(), fullStats == null ? null : (double) fullStats[t].max(),
                    forgetStats == null ? null : forgetStats[t].mean(), forgetStats == null ? null : (double) forgetStats[t].max(),
                    selected, (double) changed / numel, (double) bad / numel));
        }
        return out;
    }

    private static TensorStats[] stats(Importance imp, Kernels kernels) {
        if (imp == null) {
            return null;
        }
        try (TensorList l = kernels.upload(imp.values())) {
            return kernels.stats(l);
        }
    }

    /** Bin edges (lower) of {@link #ratioHistogram}. */
    public static double[] ratioEdges() {
        double[] e = new double[BINS];
        for (int i = 0; i < BINS; i++) {
            e[i] = LOW + i * STEP;
        }
        return e;
    }

    /** Counts of log10(I_f/I_D) over the parameters where both importances are positive. */
    public static long[] ratioHistogram(Importance full, Importance forget) {
        long[] counts = new long[BINS];
        if (full == null || forget == null) {
            return counts;
        }
        float[][] d = full.values();
        float[][] f = forget.values();
        for (int t = 0; t < d.length; t++) {
            for (int j = 0; j < d[t].length; j++) {
                if (d[t][j] > 0 && f[t][j] > 0) {
                    int bin = (int) Math.floor((Math.log10((double) f[t][j] / d[t][j]) - LOW) / STEP);
                    counts[Math.max(0, Math.min(BINS - 1, bin))]++;
                }
            }
        }
        return counts;
    }
}
