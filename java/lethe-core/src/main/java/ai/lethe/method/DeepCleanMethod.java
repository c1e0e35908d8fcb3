package ai.lethe.method;

import java.io.IOException;
import java.util.List;

import ai.lethe.importance.Estimator;
import ai.lethe.importance.Importance;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.model.Model;
import ai.lethe.model.TensorBinding;
import ai.lethe.train.Schedule;
import ai.lethe.train.Trainer;

/**
 * DeepClean (Shi et al., arXiv 2311.10448; no public code): importances of Df and Dr, reset to zero the
 * weights with r = I_f / (I_r + ε) > γ (γ given, or the threshold of the top fraction p, found by radix
 * select), then fine-tune only those weights on Dr: the gradient is multiplied by the reset mask, everything
 * else (other weights, BatchNorm statistics) stays frozen.
 */
final class DeepCleanMethod implements UnlearningMethod<MethodSettings.DeepClean> {

    @Override
    public Outcome forget(MethodContext ctx, MethodSettings.DeepClean r) throws IOException {
        Model model = ctx.model();
        Kernels k = ctx.kernels();
        Estimator estimator = ctx.request().estimator();
        Outcome out = new Outcome();
        Importance forget = ctx.forgetImportance(estimator, out);
        Importance retain = ctx.retainImportance(estimator, out);
        float[][] mask;
        float gamma;
        long reset;
        // The parameters through the model's binding (its own GPU memory when it is on the kernels' device), the
        // importances where the passes left them.
        try (ai.lethe.profile.Profiler.Span s = ai.lethe.profile.Profiler.span("update");
             TensorBinding binding = model.bind(k); TensorList m = k.allocate(model.parameterSizes());
             TensorList iF = forget.valuesOn(k); TensorList iR = retain.valuesOn(k)) {
            gamma = r.gamma() != null ? r.gamma() : k.ratioThresholdForFraction(iF, iR, r.epsilon(), r.effectiveResetFraction());
            reset = k.ratioReset(binding.parameters(), m, iF, iR, r.epsilon(), gamma);
            if (reset > 0) {
                binding.pushParameters();
            }
            mask = k.download(m);
        }
        if (reset == 0) {
            out.notes.add(String.format("nothing was reset: no weight has I_f/(I_r+eps) > gamma = %.4g; the model is unchanged", gamma));
            return out;
        }
        out.changed = reset;
        out.details.put("gamma", gamma);
        out.details.put("reset", reset);
        if (r.training().epochs() > 0) {
            List<Trainer.Epoch> history = new Trainer(k, ctx.progress()).train(model, ctx.split().train(), ctx.split().labels(),
                    i -> !ctx.split().forgetSet().isForget(i), TrainingMethods.settings(r.training(), ctx.request().seed(), Schedule.CONSTANT), null, mask, false,
                    null);
            out.details.put("finetune", history);
        }
        return out;
    }
}
