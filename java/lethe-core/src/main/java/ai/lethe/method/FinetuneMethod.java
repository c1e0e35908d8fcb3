package ai.lethe.method;

import java.io.IOException;

import ai.lethe.train.Schedule;
import ai.lethe.train.Trainer;

/** Baseline: a few epochs of SGD on Dr (every parameter, train mode), hoping Df fades. */
final class FinetuneMethod implements UnlearningMethod<MethodSettings.Training> {

    @Override
    public Outcome forget(MethodContext ctx, MethodSettings.Training t) throws IOException {
        Outcome out = new Outcome();
        out.details.put("epochs", new Trainer(ctx.kernels(), ctx.progress()).train(ctx.model(), ctx.split().train(),
                ctx.split().labels(), i -> !ctx.split().forgetSet().isForget(i),
                TrainingMethods.settings(t, ctx.request().seed(), Schedule.CONSTANT), null, null, null));
        out.changed = ctx.model().parameterCount();
        return out;
    }
}
