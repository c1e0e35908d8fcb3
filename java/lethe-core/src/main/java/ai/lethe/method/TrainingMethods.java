package ai.lethe.method;

import ai.lethe.ForgetRequest;
import ai.lethe.train.Schedule;
import ai.lethe.train.Trainer;

/** Settings shared by the methods that train. */
final class TrainingMethods {

    private TrainingMethods() {
    }

    static Trainer.Settings settings(ForgetRequest r, Schedule schedule) {
        return new Trainer.Settings(Math.max(1, r.epochs()), r.trainBatchSize(), r.lr(), r.momentum(), r.weightDecay(), schedule,
                r.seed());
    }
}
