package ai.lethe.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import ai.lethe.ForgetRequest;
import ai.lethe.Lethe;
import ai.lethe.profile.ProfileReport;
import ai.lethe.profile.Profiler;

/**
 * What the profiler's instrumentation costs while no profile is recorded. The spans stay in the hot paths
 * for good, so the cost when off is (spans one request opens) x (cost of one disabled span) / (the
 * request's time): all three are measured here in one JVM. The cost when on is the profiled request's time
 * over the plain one's.
 */
public final class ProfilerOverheadBenchmark {

    /** Times in seconds (medians), span cost in nanoseconds. */
    public record Report(String device, String method, String forgetSet, int repetitions, double plainSeconds, double profiledSeconds,
                         long spansPerRequest, long kernelCallsPerRequest, double disabledSpanNanos, double overheadOff,
                         double overheadOn) {
    }

    private static volatile long sink;

    private ProfilerOverheadBenchmark() {
    }

    public static Report run(Path model, String device, ForgetRequest request, int repetitions) throws IOException {
        ai.lethe.kernels.KernelWarmup.completeBeforeBenchmark();
        request.evaluate(false);
        try (Lethe lethe = Lethe.load(model, device)) {
            float[][] original = lethe.model().readParameters();
            lethe.model().writeParameters(original);
            lethe.forget(request); // warm-up
            double[] plain = new double[repetitions];
            double[] profiled = new double[repetitions];
            long spans = 0;
            long kernelCalls = 0;
            String method = null;
            for (int i = 0; i < repetitions; i++) {
                // alternate the order, so that whatever the first request after a restore pays hits both alike
                for (boolean profile : i % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
                    lethe.model().writeParameters(original);
                    if (profile) {
                        ProfileReport p = lethe.profile(request);
                        profiled[i] = p.wallMs() / 1e3;
                        spans = p.phases().stream().mapToLong(ProfileReport.Phase::calls).sum();
                        kernelCalls = p.kernels().stream().mapToLong(ProfileReport.KernelRow::calls).sum();
                        method = p.forget().method();
                    } else {
                        long t = System.nanoTime();
                        lethe.forget(request);
                        plain[i] = (System.nanoTime() - t) / 1e9;
                    }
                }
            }
            double spanNanos = disabledSpanNanos();
            double plainS = median(plain);
            double profiledS = median(profiled);
            return new Report(lethe.kernels().description(), method, request.forgetSet().toString(), repetitions, plainS, profiledS,
                    spans, kernelCalls, spanNanos, spans * spanNanos / 1e9 / plainS, profiledS / plainS - 1);
        }
    }

    /** Nanoseconds one disabled span costs: a loop of open/close minus the same loop without, median of 7. */
    static double disabledSpanNanos() {
        if (Profiler.recording()) {
            throw new IllegalStateException("a profile is being recorded");
        }
        int n = 20_000_000;
        double[] cost = new double[7];
        for (int r = -3; r < cost.length; r++) {
            long t0 = System.nanoTime();
            long acc = 0;
            for (int i = 0; i < n; i++) {
                acc += i;
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                try (Profiler.Span s = Profiler.span("bench")) {
                    acc += i;
                }
            }
            long t2 = System.nanoTime();
            sink = acc;
            if (r >= 0) {
                cost[r] = Math.max(0, ((t2 - t1) - (t1 - t0)) / (double) n);
            }
        }
        return median(cost);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }
}
