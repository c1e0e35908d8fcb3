package ai.lethe.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.Stream;

import ai.lethe.ForgetRequest;
import ai.lethe.Lethe;
import ai.lethe.report.ForgetReport;

/**
 * The speed of a forget request as a service sees it: the model is loaded once and its original parameters
 * are restored before every request (as a service does for a registered model), and after a warm-up
 * request the benchmark alternates a first request (computes I_D and I_f) and a second one that reuses the
 * stored I_D. Reports the medians of the engine's own timings (importance passes and update) and the
 * speed-up of the second request.
 */
public final class ForgetBenchmark {

    /** Medians over the repetitions, in seconds. */
    public record Report(String device, String model, String data, String forgetSet, String method, int repetitions,
                         double firstSeconds, double firstImportanceFull, double firstImportanceForget,
                         double secondSeconds, double secondLoadImportanceFull, double secondImportanceForget,
                         double speedup, long selected) {
    }

    private ForgetBenchmark() {
    }

    /**
     * @param request a request without importanceFull/saveImportances; evaluation is switched off here
     */
    public static Report run(Path model, String device, ForgetRequest request, int repetitions) throws IOException {
        ai.lethe.kernels.KernelWarmup.completeBeforeBenchmark();
        Path dir = Files.createTempDirectory("lethe-bench-forget");
        try {
            request.evaluate(false).saveImportances(dir);
            try (Lethe lethe = Lethe.load(model, device)) {
                float[][] original = lethe.model().readParameters();
                return measure(lethe, original, request, dir, repetitions);
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static Report measure(Lethe lethe, float[][] original, ForgetRequest request, Path dir, int repetitions)
            throws IOException {
        {
            once(lethe, original, request); // warm-up: JIT, libtorch primitives, class loading
            double[] first = new double[repetitions];
            double[] firstFull = new double[repetitions];
            double[] firstForget = new double[repetitions];
            double[] second = new double[repetitions];
            double[] secondFull = new double[repetitions];
            double[] secondForget = new double[repetitions];
            ForgetReport last = null;
            for (int i = 0; i < repetitions; i++) {
                request.saveImportances(dir).importanceFull(null);
                ForgetReport a = once(lethe, original, request);
                request.saveImportances(null).importanceFull(dir.resolve("importance_full.safetensors"));
                ForgetReport b = once(lethe, original, request);
                if (a.selected() != b.selected()) {
                    throw new IllegalStateException("the stored importance changed the result: " + a.selected() + " vs " + b.selected());
                }
                first[i] = a.seconds().total();
                firstFull[i] = a.seconds().importanceFull();
                firstForget[i] = a.seconds().importanceForget();
                second[i] = b.seconds().total();
                secondFull[i] = b.seconds().importanceFull();
                secondForget[i] = b.seconds().importanceForget();
                last = a;
            }
            double f = median(first);
            double s = median(second);
            return new Report(last.device(), last.model(), last.data(), last.forgetSet(), last.method(), repetitions, f,
                    median(firstFull), median(firstForget), s, median(secondFull), median(secondForget), f / s, last.selected());
        }
    }

    /** One request on the model restored to its original parameters. */
    private static ForgetReport once(Lethe lethe, float[][] original, ForgetRequest request) throws IOException {
        lethe.model().writeParameters(original);
        return lethe.forget(request).report();
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }
}
