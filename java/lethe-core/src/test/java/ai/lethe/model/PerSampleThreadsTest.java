package ai.lethe.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;

import org.junit.jupiter.api.Test;

import ai.lethe.data.Batch;
import ai.lethe.data.BatchStream;
import ai.lethe.data.DataSource;
import ai.lethe.importance.Estimator;
import ai.lethe.importance.Importance;
import ai.lethe.importance.ImportanceEstimator;
import ai.lethe.importance.Provenance;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.VectorKernels;
import ai.lethe.testing.Fixtures;

/**
 * The threaded per-sample path leaves no thread behind: a live thread that once ran libtorch keeps its OpenMP team,
 * and with more OpenMP threads than cores libgomp stops spinning, which slowed every later pass of the process.
 */
class PerSampleThreadsTest {

    @Test
    void theThreadedPathsThreadsEndWithTheirBatch() throws IOException, InterruptedException {
        DataSource data = Fixtures.fashionMnist(64);
        Batch batch;
        try (BatchStream s = BatchStream.all(data.train(), data.train().labels(), 9)) {
            batch = s.next();
        }
        try (TorchScriptModel m = TorchScriptModel.load(Fixtures.cnnModel()); Kernels k = new VectorKernels()) {
            Provenance p = new Provenance(m.fingerprint(), Estimator.PER_SAMPLE, 9, "test", "full", "file", "");
            for (int round = 0; round < 2; round++) {
                Importance i = new ImportanceEstimator(Estimator.PER_SAMPLE, k, null).estimate(m, List.of(batch).iterator(), 1, "test", p);
                assertTrue(i.computation().startsWith("per-sample threaded"), i.computation());
                assertEquals(9, i.count());
            }
        }
        long deadline = System.nanoTime() + 10_000_000_000L; // they end right after their work: allow a loaded machine
        List<String> alive = perSampleThreads();
        while (!alive.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
            alive = perSampleThreads();
        }
        assertTrue(alive.isEmpty(), "still alive: " + alive);
    }

    private static List<String> perSampleThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("lethe-per-sample-")).toList();
    }
}
