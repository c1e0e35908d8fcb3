package ai.lethe;

import ai.lethe.eval.Metrics;
import ai.lethe.kernels.Kernels;
import ai.lethe.method.MethodSettings;
import ai.lethe.method.Outcome;
import ai.lethe.model.Model;
import ai.lethe.report.ForgetReport;

/** The report of a forget run, built from the request, the method's outcome and the measurements. */
final class ForgetReports {

    private ForgetReports() {
    }

    static ForgetReport of(ForgetRequest request, Kernels kernels, Model model, String inputFingerprint, PreparedData p,
                           ForgetRun.Result run, Metrics before, Metrics after, Double evaluateSeconds) {
        Outcome outcome = run.outcome();
        // estimator, batch size, alpha and lambda are top-level fields for SSD and LFSSD (the rest is in settings)
        MethodSettings.Ssd ssd = request.settings() instanceof MethodSettings.Ssd s ? s : null;
        Double alpha = ssd == null ? null
                : outcome.alphaSearch() != null ? (double) outcome.alphaSearch().chosenAlpha() : ssd.alpha();
        long params = model.parameterCount();
        double update = Math.max(0, run.seconds() - outcome.importanceFullSeconds() - outcome.importanceForgetSeconds());
        return new ForgetReport(request.method().id(), request.method().baseline(), kernels.name(), kernels.description(),
                model.description(), inputFingerprint, model.fingerprint(), p.data().description(), p.forget().description(),
                p.forget().forgetCount(), p.forget().retainCount(),
                ssd != null ? request.estimator().id() : null, ssd != null ? request.batchSize() : null, alpha,
                ssd != null ? (double) ssd.lambda() : null, request.describeSettings(), params, outcome.changed(),
                params == 0 ? 0 : (double) outcome.changed() / params, outcome.largestRatio(), outcome.importanceFullSource(),
                outcome.notes(), outcome.details(), ForgetReport.MetricsReport.of(before), ForgetReport.MetricsReport.of(after),
                new ForgetReport.Seconds(outcome.importanceFullSeconds(), outcome.importanceForgetSeconds(), update,
                        run.seconds(), evaluateSeconds));
    }
}
