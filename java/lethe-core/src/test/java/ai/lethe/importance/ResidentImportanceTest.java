package ai.lethe.importance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import ai.lethe.data.BatchStream;
import ai.lethe.data.Dataset;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.ScalarKernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.kernels.VectorKernels;
import ai.lethe.method.SsdDampening;
import ai.lethe.model.zoo.ZooConfig;
import ai.lethe.model.zoo.ZooModel;
import ai.lethe.testing.Fixtures;

/**
 * Importances that stay in the kernels' memory after a pass (what a GPU run does, so the update reads them without a
 * round trip) against the same pass brought to the host: one code path, so the CPU back ends check it bit for bit.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ResidentImportanceTest {

    Kernels kernels;
    Dataset train;

    @BeforeAll
    void open() throws IOException {
        kernels = new VectorKernels();
        train = Fixtures.fashionMnist(300).train();
    }

    @AfterAll
    void close() {
        kernels.close();
    }

    private Importance pass(ZooModel model, Estimator e, boolean resident, int workers) throws IOException {
        Provenance p = new Provenance(model.fingerprint(), e, 64, train.description(), "full", "file", "");
        try (BatchStream s = BatchStream.all(train, train.labels(), 64)) {
            return new ImportanceEstimator(e, kernels, null).workers(new Workers(workers, null)).resident(resident)
                    .estimate(model, s, s.expectedBatches(), "test", p);
        }
    }

    @Test
    void residentSumsNormaliseInPlaceExactlyAsTheHostDivides() throws IOException {
        try (ZooModel model = ZooModel.create("cnn", ZooConfig.defaults(1, 28, 10), 5)) {
            for (int workers : new int[] {1, 2}) {
                Importance onHost = pass(model, Estimator.BATCH, false, workers);
                Importance resident = pass(model, Estimator.BATCH, true, workers);
                assertFalse(onHost.residentOn(kernels), "a default pass brings its sums to the host");
                assertTrue(resident.residentOn(kernels), "a resident pass keeps them in the kernels' memory");
                assertFalse(resident.residentOn(new ScalarKernels()), "resident on its own back end only");
                assertEquals(onHost.count(), resident.count());
                assertEquals(onHost.details(), resident.details(), "same provenance details either way");
                try (TensorList normalised = resident.valuesOn(kernels)) {
                    assertTrue(resident.residentOn(kernels), "normalising does not move the sums");
                    float[][] got = kernels.download(normalised);
                    for (int t = 0; t < got.length; t++) {
                        assertArrayEquals(onHost.values()[t], got[t], 0f, "tensor " + t + " with " + workers + " workers");
                    }
                }
                Importance withMore = resident.withDetails(java.util.Map.of("note", "x"));
                assertTrue(withMore.residentOn(kernels), "a copy with more details holds the same sums");
                float[][] downloaded = resident.sums(); // a host read downloads once and keeps the device copy
                assertTrue(resident.residentOn(kernels));
                resident.toHost();
                assertFalse(resident.residentOn(kernels));
                assertFalse(withMore.residentOn(kernels), "moved to the host for every copy");
                for (int t = 0; t < downloaded.length; t++) {
                    assertArrayEquals(onHost.sums()[t], downloaded[t], 0f);
                    assertArrayEquals(onHost.sums()[t], withMore.sums()[t], 0f);
                }
                resident.toHost(); // twice is harmless
            }
        }
    }

    @Test
    void dampeningWithResidentImportancesEqualsDampeningWithHostValues() throws IOException {
        try (ZooModel a = ZooModel.create("cnn", ZooConfig.defaults(1, 28, 10), 7);
             ZooModel b = ZooModel.create("cnn", ZooConfig.defaults(1, 28, 10), 7)) {
            Importance full = pass(a, Estimator.LABEL_FREE, true, 1);
            Importance forget;
            Provenance p = new Provenance(a.fingerprint(), Estimator.LABEL_FREE, 64, train.description(), "forget", "file", "");
            int[] labels = train.labels();
            try (BatchStream s = BatchStream.passes(train, labels, 64, java.util.List.of(i -> labels[i] == 1))) {
                forget = new ImportanceEstimator(Estimator.LABEL_FREE, kernels, null).resident(true)
                        .estimate(a, s, s.expectedBatches(), "test", p);
            }
            long onDevice = SsdDampening.apply(a, full, forget, 2f, 1f, kernels).selected();
            long fromHost = SsdDampening.apply(b, full.values(), forget.values(), 2f, 1f, kernels).selected();
            assertTrue(onDevice > 0, "something is selected at alpha 2");
            assertEquals(fromHost, onDevice);
            float[][] pa = a.readParameters();
            float[][] pb = b.readParameters();
            for (int t = 0; t < pa.length; t++) {
                assertArrayEquals(pb[t], pa[t], 0f, "parameter " + t);
            }
            full.toHost();
            forget.toHost();
        }
    }
}
