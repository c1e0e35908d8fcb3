package ai.lethe.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import ai.lethe.ForgetRequest;
import ai.lethe.Lethe;
import ai.lethe.data.ForgetSet;
import ai.lethe.method.Method;
import ai.lethe.report.ComparisonReport;
import ai.lethe.report.ForgetReport;
import ai.lethe.report.Progress;

/**
 * Runs several methods from the same starting model, each on a fresh copy, and collects their reports.
 * When {@code retrain} is among them it runs first and its result becomes the reference: SSD and LFSSD with
 * --alpha auto, and Mnemonic with --lambda1 auto, aim at its forget accuracy, and the table shows every method next to it.
 */
public final class Comparison {

    private Comparison() {
    }

    /**
     * Checks every method's settings before any work (training a base model, running the first methods), so a
     * bad option fails at once rather than as one "did not run" row after minutes.
     */
    public static void validate(String data, int trainLimit, ForgetSet forgetSet, List<Method> methods,
                                UnaryOperator<ForgetRequest> configure) {
        for (Method m : methods) {
            configure.apply(ForgetRequest.of(data, forgetSet).method(m).trainLimit(trainLimit)).validate();
        }
    }

    /**
     * @param base      the starting model
     * @param methods   methods to run, in any order
     * @param configure per-method settings on top of the defaults (data, forget set and train limit are set)
     * @param outDir    where the methods' outputs (and the retrained reference) are written
     */
    public static ComparisonReport run(Path base, String data, int trainLimit, ForgetSet forgetSet, List<Method> methods,
                                       String device, UnaryOperator<ForgetRequest> configure, Path outDir, Progress progress)
            throws IOException {
        validate(data, trainLimit, forgetSet, methods, configure);
        Files.createDirectories(outDir);
        List<Method> order = new ArrayList<>(methods);
        if (order.remove(Method.RETRAIN)) {
            order.add(0, Method.RETRAIN);
        }
        Path reference = null;
        List<ForgetReport> reports = new ArrayList<>();
        java.util.Map<String, String> failures = new java.util.LinkedHashMap<>();
        for (Method m : order) {
            progress.note("== " + m.id());
            ForgetRequest r = configure.apply(ForgetRequest.of(data, forgetSet).method(m).trainLimit(trainLimit));
            if (reference != null && aimsAtChanceWithoutReference(r.settings())) {
                r.set("reference_model", reference);
            }
            try (Lethe lethe = Lethe.load(base, device).progress(progress)) {
                ForgetReport report = lethe.forget(r).report();
                Path out = methodOutput(outDir, m, base);
                lethe.save(out);
                if (m == Method.RETRAIN) {
                    reference = out;
                }
                reports.add(report);
            } catch (IOException | RuntimeException e) {
                // One method that cannot run here (no codes, not a zoo model, ...) must not sink the comparison.
                failures.put(m.id(), String.valueOf(e.getMessage()));
                progress.note(m.id() + " failed: " + e.getMessage());
            }
        }
        return new ComparisonReport(base.toString(), data, forgetSet.toString(), reports, failures);
    }

    /** The settings search their strength (SSD's alpha, Mnemonic's lambda1) with no target and no reference model. */
    private static boolean aimsAtChanceWithoutReference(ai.lethe.method.MethodSettings settings) {
        if (settings instanceof ai.lethe.method.MethodSettings.Ssd s) {
            return s.alphaAuto() && s.targetForgetAcc() == null && s.referenceModel() == null;
        }
        if (settings instanceof ai.lethe.method.MethodSettings.Mnemonic m) {
            return m.lambda1Auto() && m.targetForgetAcc() == null && m.referenceModel() == null;
        }
        return false;
    }

    /** Where {@link #run} writes a method's model: DIR/METHOD in the starting model's format. */
    public static Path methodOutput(Path outDir, Method method, Path base) {
        String n = base.getFileName().toString();
        return outDir.resolve(method.id() + (n.endsWith(".safetensors") ? ".safetensors" : ".pt"));
    }
}
