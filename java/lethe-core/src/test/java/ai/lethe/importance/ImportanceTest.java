package ai.lethe.importance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntPredicate;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import ai.lethe.data.BatchStream;
import ai.lethe.data.DataSource;
import ai.lethe.data.Dataset;
import ai.lethe.data.SafetensorsDataset;
import ai.lethe.data.SyntheticData;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.VectorKernels;
import ai.lethe.model.Model;
import ai.lethe.model.TorchScriptModel;
import ai.lethe.testing.Fixtures;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImportanceTest {

    @TempDir
    Path dir;

    Model model;
    Kernels kernels;
    Dataset train;
    int[] labels;

    @BeforeAll
    void open() throws IOException {
        model = TorchScriptModel.load(Fixtures.cnnModel());
        kernels = new VectorKernels();
        DataSource d = Fixtures.fashionMnist(600);
        train = d.train();
        labels = train.labels();
    }

    @AfterAll
    void close() {
        model.close();
        kernels.close();
    }

    private Importance pass(Estimator e, int batchSize, IntPredicate samples) {
        Provenance p = new Provenance(model.fingerprint(), e, batchSize, train.description(), "full", "file", "");
        try (BatchStream s = BatchStream.passes(train, labels, batchSize, List.of(samples))) {
            return new ImportanceEstimator(e, kernels, null).estimate(model, s, s.expectedBatches(), "test", p);
        }
    }

    @Test
    void shardsMergeInAnyOrderIntoTheWholePass() {
        Importance whole = pass(Estimator.BATCH, 64, i -> true);
        Importance first = pass(Estimator.BATCH, 64, i -> i < 320);   // 5 full batches
        Importance second = pass(Estimator.BATCH, 64, i -> i >= 320);
        Importance ab = first.merge(second);
        Importance ba = second.merge(first);
        assertEquals(whole.count(), ab.count());
        assertEquals(10, ab.count(), "10 batches: 9 full and a partial one");
        float[][] w = whole.values();
        float[][] m = ab.values();
        for (int t = 0; t < w.length; t++) {
            assertArrayEquals(ab.sums()[t], ba.sums()[t], "merge order does not matter");
            float max = 0;
            for (float v : w[t]) {
                max = Math.max(max, v);
            }
            for (int j = 0; j < w[t].length; j++) {
                assertEquals(w[t][j], m[t][j], 1e-6 * max, "merged shards equal the whole pass");
            }
        }
    }

    @Test
    void perSampleEqualsTheBatchEstimatorAtBatchSizeOne() {
        Importance perSample = pass(Estimator.PER_SAMPLE, 16, i -> i < 40);
        Importance batchOne = pass(Estimator.BATCH, 1, i -> i < 40);
        assertEquals(40, perSample.count(), "per-sample normalises by samples");
        float[][] a = perSample.values();
        float[][] b = batchOne.values();
        for (int t = 0; t < a.length; t++) {
            for (int j = 0; j < a[t].length; j++) {
                assertEquals(b[t][j], a[t][j], 1e-6 * Math.abs(b[t][j]) + 1e-30);
            }
        }
    }

    @Test
    void labelFreeAccumulatesAbsoluteGradients() {
        Importance lf = pass(Estimator.LABEL_FREE, 64, i -> i < 128);
        Importance ce = pass(Estimator.BATCH, 64, i -> i < 128);
        assertEquals(2, lf.count());
        // |g| and g² of different losses: different tensors, both non-negative and non-zero
        boolean differs = false;
        for (int t = 0; t < lf.values().length; t++) {
            for (int j = 0; j < lf.values()[t].length; j++) {
                assertTrue(lf.values()[t][j] >= 0);
                differs |= lf.values()[t][j] != ce.values()[t][j];
            }
        }
        assertTrue(differs);
    }

    @Test
    void savedImportanceLoadsWithItsProvenance() throws IOException {
        Importance imp = pass(Estimator.BATCH, 64, i -> i < 200);
        Path f = dir.resolve("i.safetensors");
        imp.save(f);
        Importance back = Importance.load(f);
        assertEquals(imp.provenance(), back.provenance());
        assertEquals(imp.count(), back.count());
        assertEquals(imp.parameters(), back.parameters());
        for (int t = 0; t < imp.values().length; t++) {
            for (int j = 0; j < imp.values()[t].length; j++) {
                assertEquals(imp.values()[t][j], back.values()[t][j], Math.ulp(imp.values()[t][j]) * 2);
            }
        }
        // the file reads like the PyTorch reference's: plain tensors keyed by parameter name
        assertArrayEquals(imp.values()[7], Importance.readValues(f, model.parameters())[7]);
    }

    @Test
    void aStoredImportanceIsRefusedForAnotherModelOrOtherSettings() throws IOException {
        Importance imp = pass(Estimator.BATCH, 64, i -> i < 64);
        String data = train.description();
        assertEquals(null, imp.requireUsableAs(model, Estimator.BATCH, 64, data, "f"));
        assertMessage(() -> imp.requireUsableAs(model, Estimator.PER_SAMPLE, 64, data, "f"), "batch estimator");
        assertMessage(() -> imp.requireUsableAs(model, Estimator.BATCH, 128, data, "f"), "batch size 64");
        assertMessage(() -> imp.requireUsableAs(model, Estimator.BATCH, 64, "other data", "f"), "computed on");
        try (Model other = TorchScriptModel.load(Fixtures.cnnModel())) {
            float[][] p = other.readParameters();
            p[1][0] += 0.01f;
            other.writeParameters(p);
            assertMessage(() -> imp.requireUsableAs(other, Estimator.BATCH, 64, data, "f"), "another model");
        }
        Importance forgetOnly = new Importance(imp.parameters(), imp.sums(), imp.count(),
                new Provenance(model.fingerprint(), Estimator.BATCH, 64, data, "forget", "file", "class 1"));
        assertMessage(() -> forgetOnly.requireUsableAs(model, Estimator.BATCH, 64, data, "f"), "forget subset");
    }

    @Test
    void aStoredImportanceWithNaNInfinityOrNegativeValuesIsRefused() throws IOException {
        Importance imp = pass(Estimator.BATCH, 64, i -> i < 64);
        float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, -1e-3f};
        for (float v : bad) {
            float[][] sums = imp.sums();
            float[][] copy = new float[sums.length][];
            for (int t = 0; t < sums.length; t++) {
                copy[t] = sums[t].clone();
            }
            copy[6][17] = v;
            Path f = dir.resolve("damaged-" + v + ".safetensors");
            new Importance(imp.parameters(), copy, imp.count(), imp.provenance()).save(f);
            ai.lethe.io.LetheFormatException e = assertThrows(ai.lethe.io.LetheFormatException.class, () -> Importance.load(f));
            assertTrue(e.getMessage().contains(model.parameters().get(6).name()) && e.getMessage().contains("element 17"),
                    e.getMessage());
        }
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable e, String fragment) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(fragment), x.getMessage());
    }

    @Test
    void nonFiniteGradientsStopThePassWithTheirLocation() throws IOException {
        int[] y = {0, 1, 2, 3, 4, 5};
        Path f = dir.resolve("nan.safetensors");
        // finite pixels so large that the forward pass overflows: the data is valid, the gradient is not
        SyntheticData.safetensors(f, y.length, 28, 28, y, Float.MAX_VALUE);
        Dataset nan = SafetensorsDataset.open("nan", f);
        Provenance p = new Provenance(model.fingerprint(), Estimator.BATCH, 4, "nan", "full", "file", "");
        try (BatchStream s = BatchStream.all(nan, y, 4)) {
            NonFiniteGradientException e = assertThrows(NonFiniteGradientException.class,
                    () -> new ImportanceEstimator(Estimator.BATCH, kernels, null).estimate(model, s, 2, "nan", p));
            assertTrue(e.getMessage().contains("NaN/Inf") && e.getMessage().contains("batch 2") && e.getMessage().contains("samples 4..5"),
                    e.getMessage());
        }
    }
}
