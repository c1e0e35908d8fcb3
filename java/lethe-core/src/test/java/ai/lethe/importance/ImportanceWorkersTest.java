package ai.lethe.importance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import ai.lethe.data.Batch;
import ai.lethe.data.BatchStream;
import ai.lethe.data.DataSource;
import ai.lethe.data.Dataset;
import ai.lethe.data.SafetensorsDataset;
import ai.lethe.data.SyntheticData;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.VectorKernels;
import ai.lethe.model.Model;
import ai.lethe.model.TorchScriptModel;
import ai.lethe.model.zoo.ZooConfig;
import ai.lethe.model.zoo.ZooModel;
import ai.lethe.testing.Fixtures;

/**
 * Parallel importance passes (several workers, each a model replica on its own thread) against the sequential pass:
 * importances are sums, so the two agree up to the order of fp32 additions. Tolerance per element:
 * |parallel − sequential| ≤ 1e-6·max|sequential of the tensor| + 2e-6·|sequential| (the sums here run over 10
 * batches; reordering fp32 additions moves each by a few ulps).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImportanceWorkersTest {

    @TempDir
    Path dir;

    Kernels kernels;
    Dataset train;
    int[] labels;

    @BeforeAll
    void open() throws IOException {
        kernels = new VectorKernels();
        DataSource d = Fixtures.fashionMnist(600);
        train = d.train();
        labels = train.labels();
    }

    @AfterAll
    void close() {
        kernels.close();
    }

    private Importance pass(Model model, Estimator e, Workers w) {
        Provenance p = new Provenance(model.fingerprint(), e, 64, train.description(), "full", "file", "");
        try (BatchStream s = BatchStream.all(train, labels, 64)) {
            return new ImportanceEstimator(e, kernels, null).workers(w).estimate(model, s, s.expectedBatches(), "test", p);
        }
    }

    private static void assertSumsAgree(Importance sequential, Importance parallel) {
        assertEquals(sequential.count(), parallel.count(), "batches counted");
        assertEquals(sequential.details().get(Importance.SAMPLES), parallel.details().get(Importance.SAMPLES), "samples counted");
        float[][] a = sequential.sums();
        float[][] b = parallel.sums();
        assertEquals(a.length, b.length);
        for (int t = 0; t < a.length; t++) {
            double max = 0;
            for (float v : a[t]) {
                max = Math.max(max, Math.abs(v));
            }
            for (int j = 0; j < a[t].length; j++) {
                double tol = 1e-6 * max + 2e-6 * Math.abs(a[t][j]);
                assertTrue(Math.abs(a[t][j] - b[t][j]) <= tol, "tensor " + t + " element " + j + ": sequential " + a[t][j]
                        + ", parallel " + b[t][j] + " (tolerance " + tol + ")");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Estimator.class, names = {"BATCH", "LABEL_FREE"})
    void twoWorkersOnTorchScriptEqualTheSequentialPass(Estimator e) throws IOException {
        try (Model model = TorchScriptModel.load(Fixtures.cnnModel())) {
            Importance one = pass(model, e, Workers.ONE);
            Importance two = pass(model, e, new Workers(2, null));
            assertSumsAgree(one, two);
            assertEquals("2", two.details().get(Importance.WORKERS));
            // the replicas were copies: the model itself is unchanged and still usable
            assertArrayEquals(one.sums()[0], pass(model, e, Workers.ONE).sums()[0]);
        }
    }

    @Test
    void threeWorkersOnAZooModelEqualTheSequentialPassAndRepeatExactly() {
        try (ZooModel model = ZooModel.create("cnn", ZooConfig.defaults(1, 28, 10), 3)) {
            Importance one = pass(model, Estimator.BATCH, Workers.ONE);
            Importance three = pass(model, Estimator.BATCH, new Workers(3, null));
            assertSumsAgree(one, three);
            // batch i goes to worker i mod 3 in every run, so the same worker count gives the same bits
            Importance again = pass(model, Estimator.BATCH, new Workers(3, null));
            for (int t = 0; t < three.sums().length; t++) {
                assertArrayEquals(three.sums()[t], again.sums()[t], "tensor " + t);
            }
        }
    }

    @Test
    void twoWorkersOnTheBatchedPerSamplePathEqualTheSequentialPass() throws IOException {
        try (ZooModel model = ZooModel.create("cnn", ZooConfig.defaults(1, 28, 10), 5)) {
            Importance one = pass(model, Estimator.PER_SAMPLE, Workers.ONE);
            Importance two = pass(model, Estimator.PER_SAMPLE, new Workers(2, null));
            assertSumsAgree(one, two);
            assertEquals("2", two.details().get(Importance.WORKERS));
            assertTrue(two.details().get(Importance.COMPUTATION).startsWith("per-sample batched"), two.details().toString());
        }
        // TorchScript's per-sample pass is the threaded loop, which runs on one worker whatever is asked
        try (Model model = TorchScriptModel.load(Fixtures.cnnModel())) {
            Importance two = pass(model, Estimator.PER_SAMPLE, new Workers(2, null));
            assertNull(two.details().get(Importance.WORKERS), two.details().toString());
            assertTrue(two.details().get(Importance.COMPUTATION).startsWith("per-sample threaded"), two.details().toString());
        }
    }

    @Test
    void nonFiniteGradientsStopAParallelPass() throws IOException {
        int[] y = {0, 1, 2, 3, 4, 5, 6, 7};
        Path f = dir.resolve("overflow.safetensors");
        SyntheticData.safetensors(f, y.length, 28, 28, y, Float.MAX_VALUE); // the forward pass overflows
        Dataset bad = SafetensorsDataset.open("overflow", f);
        try (Model model = TorchScriptModel.load(Fixtures.cnnModel()); BatchStream s = BatchStream.all(bad, y, 2)) {
            Provenance p = new Provenance(model.fingerprint(), Estimator.BATCH, 2, "overflow", "full", "file", "");
            NonFiniteGradientException e = assertThrows(NonFiniteGradientException.class, () -> new ImportanceEstimator(Estimator.BATCH,
                    kernels, null).workers(new Workers(2, null)).estimate(model, s, 4, "overflow", p));
            assertTrue(e.getMessage().contains("NaN/Inf") && e.getMessage().contains("batch"), e.getMessage());
        }
    }

    @Test
    void aFailingDataSourceStopsEveryWorkerAndReachesTheCaller() throws IOException {
        try (Model model = TorchScriptModel.load(Fixtures.cnnModel()); BatchStream s = BatchStream.all(train, labels, 64)) {
            Iterator<Batch> failing = new Iterator<>() {
                int served;

                @Override
                public boolean hasNext() {
                    return true;
                }

                @Override
                public Batch next() {
                    if (++served > 3) {
                        throw new IllegalStateException("disk read failed");
                    }
                    return s.next();
                }
            };
            Provenance p = new Provenance(model.fingerprint(), Estimator.BATCH, 64, "x", "full", "file", "");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> new ImportanceEstimator(Estimator.BATCH, kernels,
                    null).workers(new Workers(2, null)).estimate(model, failing, 0, "failing", p));
            assertEquals("disk read failed", e.getMessage());
        }
    }

    @Test
    void workerCountsOutsideOneToSixtyFourAreRefused() {
        assertThrows(ai.lethe.InvalidSettingException.class, () -> new Workers(0, null));
        assertThrows(ai.lethe.InvalidSettingException.class, () -> new Workers(65, null));
        assertEquals(List.of(1, 0, 1), List.of(new Workers(3, new int[] {1, 0}).deviceOf(0), new Workers(3, new int[] {1, 0}).deviceOf(1),
                new Workers(3, new int[] {1, 0}).deviceOf(2)));
        assertEquals(-1, new Workers(2, null).deviceOf(1));
    }
}
