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
    void aFailedJobIsOneLineAndExitOne() throws Exception {
        // a gzip stream cut short: the IDX reader refuses it where the file is opened (the driver, before any
        // task runs); a failure inside the tasks ends the same way, as one line starting "the Spark job failed:"
        Path data = dir.resolve("data");
        java.nio.file.Files.createDirectories(data);
        for (String split : new String[] {"train", "t10k"}) {
            java.nio.file.Files.copy(Path.of("/usr/share/datasets/fashion-mnist/" + split + "-labels-idx1-ubyte.gz"),
                    data.resolve(split + "-labels-idx1-ubyte.gz"));
            byte[] images = java.nio.file.Files.readAllBytes(Path.of("/usr/share/datasets/fashion-mnist/" + split
                    + "-images-idx3-ubyte.gz"));
            // a gzip stream cut short: the header reads, the pixels do not
            java.nio.file.Files.write(data.resolve(split + "-images-idx3-ubyte.gz"), java.util.Arrays.copyOf(images, 4096));
        }
        CliRunner.Result r = CliRunner.run("fisher", "--model", CliRunner.model().toString(), "--data", "idx:" + data,
                "--train-limit", "256", "--spark", "local[2]", "--spark-partitions", "2", "--device", "cpu",
                "--out", dir.resolve("x.safetensors").toString(), "-q");
        assertEquals(1, r.code(), r.toString());
        String line = r.err().lines().filter(l -> l.startsWith("lethe fisher: error:")).findFirst().orElse("");
        assertTrue(line.contains("corrupt gzip data") || line.contains("the Spark job failed:"), r.err());
        assertEquals(1, r.err().lines().filter(l -> l.contains("error")).count(), "one error line: " + r.err());
        assertTrue(!java.nio.file.Files.exists(dir.resolve("x.safetensors")), "no output written");
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
