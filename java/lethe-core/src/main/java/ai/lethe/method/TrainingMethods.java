package ai.lethe.method;

import ai.lethe.train.Schedule;
import ai.lethe.train.Trainer;

/** Settings shared by the methods that train. */
final class TrainingMethods {

    private TrainingMethods() {
    }

    static Trainer.Settings settings(MethodSettings.Training t, long seed, Schedule schedule) {
        return new Trainer.Settings(Math.max(1, t.epochs()), t.trainBatchSize(), t.lr(), t.momentum(), t.weightDecay(), schedule,
                seed);
    }
}
