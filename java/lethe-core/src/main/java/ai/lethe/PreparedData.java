package ai.lethe;

import java.io.IOException;

import ai.lethe.data.DataSource;
import ai.lethe.data.ForgetSet;
import ai.lethe.data.ForgetSplit;
import ai.lethe.io.LetheFormatException;
import ai.lethe.model.Model;

/** Data opened and checked against a model: shapes accepted, labels in range, forget set resolved and split off. */
record PreparedData(DataSource data, int[] testLabels, ForgetSet.Resolved forget, ForgetSplit split) {

    static PreparedData prepare(Model model, String data, int trainLimit, ForgetSet forgetSet) throws IOException {
        DataSource source = DataSource.open(data, trainLimit);
        int[] trainLabels = source.train().labels();
        int[] testLabels = source.test().labels();
        int classes = model.numClasses(source.train().sampleShape());
        requireLabelsInRange(trainLabels, classes, "training");
        requireLabelsInRange(testLabels, classes, "test");
        ForgetSet.Resolved resolved = forgetSet.resolve(trainLabels, classes);
        return new PreparedData(source, testLabels, resolved, new ForgetSplit(source.train(), trainLabels, resolved));
    }

    static void requireLabelsInRange(int[] labels, int classes, String split) throws LetheFormatException {
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new LetheFormatException("label " + labels[i] + " of " + split + " sample " + i
                        + " is out of range: the model has " + classes + " classes (0.." + (classes - 1) + ")");
            }
        }
    }
}
