package ai.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.lethe.importance.Importance;

/** lethe fisher --spark local[N]: same options and file as lethe fisher, accepted by forget --retain-importance. */
class CliSparkTest {

    @TempDir
    Path dir;

    @Test
    void sparkFisherWritesAFileThatForgetAccepts() throws Exception {
        Path viaSpark = dir.resolve("spark.safetensors");
        CliRunner.Result r = CliRunner.run("fisher", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--train-limit", "640", "--estimator", "label-free", "--spark", "local[2]", "--spark-partitions", "4",
                "--device", "cpu", "--out", viaSpark.toString(), "-q");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("spark local[2,4]: 4 index ranges cut at multiples of the batch size 64"), r.out());

        Path single = dir.resolve("single.safetensors");
        CliRunner.Result s = CliRunner.run("fisher", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--train-limit", "640", "--estimator", "label-free", "--device", "cpu", "--out", single.toString(), "-q");
        assertEquals(0, s.code(), s.toString());

        Importance a = Importance.load(single);
        Importance b = Importance.load(viaSpark);
        assertEquals(a.provenance(), b.provenance());
        assertEquals(a.count(), b.count());
        assertEquals("640", b.details().get("samples"));
        assertTrue(b.details().get("engine").startsWith("spark 4."), b.details().toString());
        float[][] x = a.values();
        float[][] y = b.values();
        for (int t = 0; t < x.length; t++) {
            double norm = 0;
            double diff = 0;
            for (int j = 0; j < x[t].length; j++) {
                norm += (double) x[t][j] * x[t][j];
                diff += ((double) x[t][j] - y[t][j]) * ((double) x[t][j] - y[t][j]);
            }
            assertTrue(Math.sqrt(diff / norm) <= 1e-6, a.parameters().get(t).name() + ": " + Math.sqrt(diff / norm));
        }

        CliRunner.Result f = CliRunner.run("forget", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--train-limit", "640", "--forget-class", "1", "--method", "lfssd", "--retain-importance", viaSpark.toString(),
                "--out", dir.resolve("o.pt").toString(), "--no-eval", "--json", "-q");
        assertEquals(0, f.code(), f.toString());
        assertTrue(f.out().contains("loaded from"), f.out());
    }

    @Test
    void sparkOptionsAreCheckedBeforeAnyWork() {
        CliRunner.Result r = CliRunner.run("fisher", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--spark", "local[2]", "--subset", "forget", "--forget-class", "1", "--out", dir.resolve("x.safetensors").toString());
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("--spark computes the importance over the full training set"), r.err());
        CliRunner.Result p = CliRunner.run("fisher", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--spark-partitions", "4", "--out", dir.resolve("x.safetensors").toString());
        assertEquals(2, p.code(), p.toString());
        CliRunner.Result m = CliRunner.run("fisher", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--spark", "nonsense", "--out", dir.resolve("x.safetensors").toString());
        assertEquals(2, m.code(), m.toString());
        assertTrue(m.err().contains("is not a Spark master"), m.err());
    }
}
