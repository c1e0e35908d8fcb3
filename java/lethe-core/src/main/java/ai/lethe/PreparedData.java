package ai.lethe;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import ai.lethe.data.DataSource;
import ai.lethe.data.Dataset;
import ai.lethe.data.ForgetSet;
import ai.lethe.data.ForgetSplit;
import ai.lethe.io.LetheFormatException;
import ai.lethe.model.DeviceDataset;
import ai.lethe.model.Model;
import ai.lethe.report.Progress;

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

    /**
     * This data with its training and test sets decoded once onto the model's device when {@code mode} says so
     * ({@link DataOnDevice}); the placed sets are freed when the result is closed.
     */
    Placed placeOn(Model model, DataOnDevice mode, Progress progress) throws IOException {
        Dataset train = data.train();
        Dataset test = data.test();
        long bytes = DataOnDevice.bytes(train, test);
        if (!mode.places(model, bytes)) {
            if (mode == DataOnDevice.AUTO && model.placement().startsWith("cuda")) {
                progress.note(String.format("data streams from disk: %.2f GiB as fp32 is above --data-on-device auto's 2 GiB"
                        + " (on forces it)", bytes / (double) (1L << 30)));
            }
            return new Placed(this, List.of());
        }
        List<DeviceDataset> owned = new ArrayList<>();
        try {
            DeviceDataset placedTrain = DeviceDataset.place(train, model, progress);
            owned.add(placedTrain);
            DeviceDataset placedTest = DeviceDataset.place(test, model, progress);
            owned.add(placedTest);
            progress.note(String.format("data decoded once onto %s (%.1f MB): passes take their batches there",
                    placedTrain.device(), bytes / 1e6));
            return new Placed(new PreparedData(new DataSource(data.spec(), placedTrain, placedTest), testLabels, forget,
                    new ForgetSplit(placedTrain, split.labels(), forget)), owned);
        } catch (IOException | RuntimeException e) {
            owned.forEach(DeviceDataset::close);
            throw e;
        }
    }

    /** Prepared data and the device copies it refers to (none when the data streams from disk). */
    record Placed(PreparedData data, List<DeviceDataset> owned) implements AutoCloseable {
        @Override
        public void close() {
            owned.forEach(DeviceDataset::close);
        }
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
