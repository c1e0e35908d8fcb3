package ai.lethe.kernels.cuda;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Skips a test class, with the probe's reason in the report, where no CUDA device is usable. */
public final class RequiresCudaDevice implements ExecutionCondition {

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        CudaKernels.Availability a = CudaKernels.probe();
        return a.available()
                ? ConditionEvaluationResult.enabled("CUDA: " + a.reason())
                : ConditionEvaluationResult.disabled("skipped: CUDA back end not testable here: " + a.reason());
    }
}
