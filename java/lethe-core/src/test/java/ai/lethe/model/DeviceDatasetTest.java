package ai.lethe.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntPredicate;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import ai.lethe.data.Batch;
import ai.lethe.data.BatchStream;
import ai.lethe.data.Dataset;
import ai.lethe.importance.Estimator;
import ai.lethe.importance.Importance;
import ai.lethe.importance.ImportanceEstimator;
import ai.lethe.importance.Provenance;
import ai.lethe.kernels.VectorKernels;
import ai.lethe.model.zoo.ZooConfig;
import ai.lethe.model.zoo.ZooModel;
import ai.lethe.testing.Fixtures;

/**
 * A data set decoded once into one tensor (on this machine: the host; on a GPU machine: the device, the same code)
 * against the same data streamed from the files: the batches carry no samples, the model gathers their rows, and
 * every result is bit for bit the streamed one. Odd batch sizes leave partial last batches; the predicate pass and
 * the shuffled order give non-contiguous rows (a gather), file order gives contiguous ones (a view).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeviceDatasetTest {

    Dataset files;
    int[] labels;
    ZooModel model;
    DeviceDataset placed;

    @BeforeAll
    void open() throws IOException {
        files = Fixtures.fashionMnist(301).train();
        labels = files.labels();
        model = ZooModel.create("cnn", ZooConfig.defaults(1, 28, 10), 11);
        placed = DeviceDataset.place(files, model, null);
    }

    @AfterAll
    void close() {
        placed.close();
        model.close();
    }

    private List<float[]> logits(BatchStream s, boolean expectResident) {
        List<float[]> out = new ArrayList<>();
        try (s) {
            while (s.hasNext()) {
                Batch b = s.next();
                assertEquals(expectResident, b.resident());
                if (expectResident) {
                    assertEquals(0, b.x().length, "a resident batch carries no samples");
                }
                out.add(model.logits(b));
            }
        }
        return out;
    }

    private static void assertSame(List<float[]> expected, List<float[]> actual) {
        assertEquals(expected.size(), actual.size(), "batches");
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), 0f, "batch " + i);
        }
    }

    @Test
    void placedDataSetDescribesItselfAsItsFiles() throws IOException {
        assertEquals(files.description(), placed.description());
        assertEquals(files.size(), placed.size());
        assertArrayEquals(files.labels(), placed.labels());
        assertEquals("cpu", placed.device());
        assertEquals(4L * 301 * 784, DeviceDataset.bytes(files));
    }

    @Test
    void fileOrderBatchesAreTheStreamedOnes() {
        assertSame(logits(BatchStream.all(files, labels, 7), false), logits(BatchStream.all(placed, labels, 7), true));
        assertSame(logits(BatchStream.all(files, labels, 64), false), logits(BatchStream.all(placed, labels, 64), true));
    }

    @Test
    void passesThatSkipSamplesGatherTheSameRows() {
        List<IntPredicate> passes = List.of(i -> labels[i] != 1, i -> labels[i] == 1); // retain then forget
        assertSame(logits(BatchStream.passes(files, labels, 65, passes), false),
                logits(BatchStream.passes(placed, labels, 65, passes), true));
    }

    @Test
    void shuffledEpochsGatherTheSameRowsAndTransformsStillReadTheFiles() {
        int[] order = new Random(3).ints(0, files.size()).distinct().limit(files.size()).toArray();
        assertSame(logits(BatchStream.ordered(files, labels, 33, order, null), false),
                logits(BatchStream.ordered(placed, labels, 33, order, null), true));
        BatchStream.SampleTransform blank = (index, label, x, offset) -> x[offset] = 1f;
        assertSame(logits(BatchStream.ordered(files, labels, 33, order, blank), false),
                logits(BatchStream.ordered(placed, labels, 33, order, blank), false));
    }

    @Test
    void perSampleImportancesOfResidentBatchesAreTheStreamedOnes() {
        try (VectorKernels kernels = new VectorKernels()) {
            Provenance p = new Provenance(model.fingerprint(), Estimator.PER_SAMPLE, 7, files.description(), "full", "file", "");
            for (ai.lethe.model.PerSamplePath path : new ai.lethe.model.PerSamplePath[] {ai.lethe.model.PerSamplePath.LOOP,
                    model.perSamplePath()}) {
                Importance streamed;
                Importance resident;
                try (BatchStream s = BatchStream.all(files.limit(40), java.util.Arrays.copyOf(labels, 40), 7)) {
                    streamed = new ImportanceEstimator(Estimator.PER_SAMPLE, kernels, null).perSamplePath(path)
                            .estimate(model, s, s.expectedBatches(), "streamed", p);
                }
                try (BatchStream s = BatchStream.passes(placed, labels, 7, List.of(i -> i < 40))) {
                    resident = new ImportanceEstimator(Estimator.PER_SAMPLE, kernels, null).perSamplePath(path)
                            .estimate(model, s, s.expectedBatches(), "resident", p);
                }
                assertEquals(streamed.count(), resident.count());
                for (int t = 0; t < streamed.sums().length; t++) {
                    assertArrayEquals(streamed.sums()[t], resident.sums()[t], 0f, path + " tensor " + t);
                }
            }
        }
    }

    @Test
    void aClosedDataSetSaysSo() throws IOException {
        DeviceDataset other = DeviceDataset.place(files.limit(5), model, null);
        other.close();
        BatchStream s = BatchStream.all(other, java.util.Arrays.copyOf(labels, 5), 5);
        Batch b = s.next();
        s.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.logits(b));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertFalse(b.x().length > 0);
    }
}
