package ai.lethe.method;

import java.io.IOException;

import ai.lethe.model.zoo.ZooModel;
import ai.lethe.train.Schedule;
import ai.lethe.train.Trainer;

/**
 * Baseline: re-initialise every parameter (and BatchNorm buffer) and train on Dr only: the model that never
 * saw the forget set, the yardstick of the other methods. Needs a zoo model, because only an architecture
 * Lethe defines can be initialised afresh. (The SSD reference code's "retrain" re-initialises only the last
 * layer; this one does not copy that defect.)
 */
final class RetrainMethod implements UnlearningMethod<MethodSettings.Training> {

    @Override
    public Outcome forget(MethodContext ctx, MethodSettings.Training t) throws IOException {
        if (!(ctx.model() instanceof ZooModel zoo)) {
            throw new IllegalArgumentException("retrain needs a zoo model (train one with 'lethe train'): a TorchScript model"
                    + " cannot be re-initialised");
        }
        long seed = ctx.request().seed();
        Outcome out = new Outcome();
        try (ZooModel fresh = ZooModel.create(zoo.net().arch(), zoo.net().config(), seed + 1)) {
            out.details.put("init_seed", seed + 1);
            out.details.put("epochs", new Trainer(ctx.kernels(), ctx.progress()).train(fresh, ctx.split().train(),
                    ctx.split().labels(), i -> !ctx.split().forgetSet().isForget(i), TrainingMethods.settings(t, seed, Schedule.COSINE),
                    null, null, null));
            zoo.copyStateFrom(fresh);
        }
        out.changed = ctx.model().parameterCount();
        return out;
    }
}
