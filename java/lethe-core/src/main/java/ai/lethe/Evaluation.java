package ai.lethe;

import java.io.IOException;

import ai.lethe.eval.Evaluator;
import ai.lethe.eval.Metrics;
import ai.lethe.model.Model;
import ai.lethe.report.Progress;

/** The before/after measurements of a forget run on its prepared data, with the seconds they took. */
final class Evaluation {

    private final Evaluator evaluator;
    private final PreparedData data;
    private double seconds;

    Evaluation(int batchSize, Progress progress, PreparedData data) {
        this.evaluator = new Evaluator(batchSize, progress);
        this.data = data;
    }

    /** Accuracies and MIA of the model as it is now. */
    Metrics measure(Model model) throws IOException {
        long t = System.nanoTime();
        try {
            return evaluator.evaluate(model, data.split(), data.data().test(), data.testLabels());
        } finally {
            seconds += (System.nanoTime() - t) / 1e9;
        }
    }

    /** Seconds spent measuring so far. */
    double seconds() {
        return seconds;
    }
}
