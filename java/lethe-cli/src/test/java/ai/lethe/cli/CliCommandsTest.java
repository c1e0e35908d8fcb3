package ai.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.lethe.importance.Importance;
import ai.lethe.model.Model;
import ai.lethe.model.TorchScriptModel;

/** The commands on real Fashion-MNIST, as a user runs them. */
class CliCommandsTest {

    @TempDir
    Path dir;

    static final ObjectMapper JSON = new ObjectMapper();

    /**
     * picocli formats descriptions with String.format: a bare '%' fails, and picocli then prints a warning with the
     * raw text instead of the help page's own layout (bench per-sample's help once did).
     */
    @Test
    void everyHelpPageFormatsCleanly() {
        java.io.PrintStream err = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        java.util.List<String> pages = new java.util.ArrayList<>();
        System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            java.util.Deque<picocli.CommandLine> todo = new java.util.ArrayDeque<>(java.util.List.of(Main.commandLine()));
            while (!todo.isEmpty()) {
                picocli.CommandLine c = todo.pop();
                pages.add(c.getCommandName());
                assertTrue(!c.getUsageMessage().isBlank(), c.getCommandName());
                todo.addAll(c.getSubcommands().values());
            }
        } finally {
            System.setErr(err);
        }
        String warnings = captured.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(pages.size() > 10, "every command's page was rendered: " + pages);
        assertTrue(!warnings.contains("WARN"), warnings);
    }

    @Test
    void forgetWritesTheModelAndTheReport() throws Exception {
        Path out = dir.resolve("forgotten.pt");
        Path report = dir.resolve("report.json");
        CliRunner.Result r = CliRunner.run("forget", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--train-limit", "1000", "--forget-class", "1", "--method", "lfssd", "--alpha", "2", "--out", out.toString(),
                "--report", report.toString(), "--quiet");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("forget-test acc"), r.out());
        JsonNode j = JSON.readTree(report.toFile());
        for (String key : new String[] {"method", "backend", "params", "selected", "before", "after", "seconds"}) {
            assertTrue(j.has(key), "report has " + key + ": " + j);
        }
        for (String key : new String[] {"forget_train_acc", "retain_train_acc", "forget_test_acc", "retain_test_acc", "mia"}) {
            assertTrue(j.get("before").has(key) && j.get("after").has(key), key);
        }
        for (String key : new String[] {"importance_full", "importance_forget", "update", "total"}) {
            assertTrue(j.get("seconds").get(key).asDouble() >= 0, key);
        }
        assertEquals("lfssd", j.get("method").asText());
        assertEquals(105_866, j.get("params").asLong());
        assertTrue(j.get("after").get("forget_test_acc").asDouble() < 0.05, j.get("after").toString());
        try (Model m = TorchScriptModel.load(out)) {
            assertEquals(j.get("output_fingerprint").asText(), m.fingerprint(), "the written model is the forgotten one");
            assertNotEquals(j.get("model_fingerprint").asText(), m.fingerprint());
        }
    }

    @Test
    void weightsGoOutAndComeBackAsSafetensors() throws Exception {
        Path weights = dir.resolve("forgotten.safetensors");
        CliRunner.Result r = CliRunner.run("forget", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--train-limit", "600", "--forget-class", "1", "--method", "lfssd", "--alpha", "2", "--out", weights.toString(),
                "--no-eval", "--json", "-q");
        assertEquals(0, r.code(), r.toString());
        String written = JSON.readTree(r.out()).get("output_fingerprint").asText();
        CliRunner.Result e = CliRunner.run("eval", "--model", CliRunner.model().toString(), "--weights", weights.toString(),
                "--data", "fashion-mnist", "--train-limit", "600", "--forget-class", "1", "--json", "-q");
        assertEquals(0, e.code(), e.toString());
        JsonNode j = JSON.readTree(e.out());
        assertEquals(written, j.get("model_fingerprint").asText(), "--weights gives back the forgotten model");
        assertTrue(j.get("metrics").get("forget_test_acc").asDouble() < 0.05);
    }

    @Test
    void aStoredImportanceServesALaterRequest() throws Exception {
        Path imp = dir.resolve("full.safetensors");
        CliRunner.Result f = CliRunner.run("fisher", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--train-limit", "800", "--subset", "full", "--estimator", "batch", "--batch-size", "64", "--out", imp.toString(), "-q");
        assertEquals(0, f.code(), f.toString());
        assertTrue(f.out().startsWith("wrote "), f.out());
        Importance stored = Importance.load(imp);
        assertEquals("full", stored.provenance().subset());
        assertEquals("file", stored.provenance().order());
        assertEquals(13, stored.count(), "800 samples in batches of 64");

        CliRunner.Result r = CliRunner.run("forget", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--train-limit", "800", "--forget-class", "7", "--retain-importance", imp.toString(), "--alpha", "5",
                "--out", dir.resolve("o.pt").toString(), "--no-eval", "--json", "-q");
        assertEquals(0, r.code(), r.toString());
        JsonNode j = JSON.readTree(r.out());
        assertTrue(j.get("importance_full_source").asText().startsWith("loaded from"));
        assertTrue(j.get("before").isNull(), "--no-eval");
        assertTrue(r.err().contains("note: the stored I_D was batched in file order"), r.err());
        assertTrue(r.err().contains("note: --retain-importance is deprecated, use --importance-full"), "the old name still works: " + r.err());
    }

    @Test
    void fisherAndSelftestWriteTheirReportAsTheyPrintIt() throws Exception {
        Path imp = dir.resolve("full.safetensors");
        Path report = dir.resolve("fisher.json");
        CliRunner.Result f = CliRunner.run("fisher", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--train-limit", "300", "--out", imp.toString(), "--report", report.toString(), "--json", "-q");
        assertEquals(0, f.code(), f.toString());
        JsonNode j = JSON.readTree(f.out());
        assertEquals(JSON.readTree(Files.readString(report)), j, "--report holds what --json printed");
        assertEquals(imp.toString(), j.get("out").asText());
        assertEquals("batch", j.get("estimator").asText());
        assertEquals(Importance.load(imp).count(), j.get("count").asLong());
        assertEquals(8, j.get("tensors").asInt(), "the bundled CNN's parameter tensors");
        assertEquals("batches", j.get("counted").asText());
        assertTrue(j.get("spark").isNull(), j.toString());

        Path checks = dir.resolve("selftest.json");
        CliRunner.Result s = CliRunner.run("selftest", "--device", "scalar", "--quick", "--report", checks.toString());
        assertEquals(0, s.code(), s.toString());
        assertTrue(s.out().startsWith("selftest: scalar"), "the lines as before: " + s.out());
        JsonNode written = JSON.readTree(Files.readString(checks));
        assertEquals(0, written.get("failed").asInt());
        assertEquals(written.get("checks").asInt(), s.out().lines().filter(l -> l.startsWith("ok ")).count(), "a line per check");
        assertTrue(s.out().strip().endsWith(written.get("checks").asInt() + " checks, 0 failed on " + written.get("description").asText()),
                s.out());
    }

    @Test
    void fisherSubsetsNeedAForgetSet() throws Exception {
        CliRunner.Result r = CliRunner.run("fisher", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--subset", "forget", "--out", dir.resolve("f.safetensors").toString());
        assertEquals(2, r.code(), r.toString());
        Path out = dir.resolve("forget.safetensors");
        r = CliRunner.run("fisher", "--model", CliRunner.model().toString(), "--data", "fashion-mnist", "--train-limit", "500",
                "--subset", "forget", "--forget-class", "0", "--estimator", "per-sample", "--out", out.toString(), "-q");
        assertEquals(0, r.code(), r.toString());
        Importance i = Importance.load(out);
        assertEquals("per-sample", i.provenance().estimator().id());
        long class0 = java.util.Arrays.stream(ai.lethe.data.DataSource.open("fashion-mnist", 500).train().labels())
                .filter(l -> l == 0).count();
        assertEquals(class0, i.count(), "every class-0 sample among the first 500, counted one by one");
    }

    @Test
    void evalPrintsTheMetrics() throws Exception {
        CliRunner.Result r = CliRunner.run("eval", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--train-limit", "500", "--forget-class", "3", "--json", "-q");
        assertEquals(0, r.code(), r.toString());
        JsonNode m = JSON.readTree(r.out()).get("metrics");
        assertTrue(m.get("retain_test_acc").asDouble() > 0.8, m.toString());
        assertEquals(1000, m.get("forget_test").asInt());
    }

    @Test
    void benchPerSampleRefusesBadSettingsBeforeAnyWork() {
        String[][] bad = {{"--samples", "0", "--samples"}, {"--batch-size", "-3", "--batch-size"},
            {"--arch", "resnet18", "--input 3,224,224"}, {"--input", "3,32", "three positive integers C,H,W"},
            {"--input", "0,16,16", "three positive integers C,H,W"}, {"--input", "a,b,c", "three positive integers C,H,W"},
            {"--input", "3,32,16", "H = W"}, {"--loop-samples", "0", "--loop-samples"},
            {"--loop-samples", "1001", "between 1 and --samples (1000)"}, {"--workers", "0", "'--workers': must be between 1 and 64, got 0"},
            {"--workers", "many", "expected a number or auto, got 'many'"},
            {"--warmup-seconds", "-1", "--warmup-seconds must be between 0 and 3600, got -1.0"}};
        for (String[] b : bad) {
            CliRunner.Result r = CliRunner.run("bench", "per-sample", b[0], b[1], "--json");
            assertEquals(2, r.code(), r.toString());
            assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
            assertTrue(r.err().contains(b[2]), r.err());
            assertEquals("", r.out().strip(), "no JSON for a refused run");
        }
    }

    @Test
    void benchPerSampleOnSyntheticInputsComparesTheLoopWithTheFastPathOnTheSameSamples() throws Exception {
        CliRunner.Result r = CliRunner.run("bench", "per-sample", "--arch", "cnn", "--input", "1,16,16", "--samples", "20",
                "--loop-samples", "7", "--batch-size", "8", "--repetitions", "1", "--warmup-seconds", "0", "--device", "cpu", "--json");
        assertEquals(0, r.code(), r.toString());
        JsonNode j = JSON.readTree(r.out());
        assertEquals("synthetic", j.get("input").get("source").asText());
        assertEquals("[1,16,16]", j.get("input").get("shape").toString());
        assertEquals(20, j.get("samples").asInt());
        assertEquals(7, j.get("loop_samples").asInt());
        assertEquals("cpu", j.get("placement").asText());
        // against the fast path over all 20 samples the loop's 7 would differ by far more than rounding
        assertTrue(j.get("max_rel_diff").asDouble() < 1e-4, j.toString());
        double perSample = (j.get("loop_seconds").asDouble() / 7) / (j.get("fast_seconds").asDouble() / 20);
        assertEquals(perSample, j.get("loop_over_fast").asDouble(), 1e-9 * perSample, "loop_over_fast compares seconds per sample");
        assertTrue(j.get("threaded_seconds").asDouble() > 0, j.toString());
    }

    @Test
    void benchPerSampleRunsOnFashionMnistByDefault() throws Exception {
        CliRunner.Result r = CliRunner.run("bench", "per-sample", "--arch", "mlp", "--samples", "10", "--repetitions", "1",
                "--warmup-seconds", "0", "--skip-threaded", "--device", "cpu", "--json");
        assertEquals(0, r.code(), r.toString());
        JsonNode j = JSON.readTree(r.out());
        assertEquals("fashion-mnist", j.get("input").get("source").asText());
        assertEquals("[1,28,28]", j.get("input").get("shape").toString());
        assertEquals(10, j.get("loop_samples").asInt(), "the loop runs on every sample by default");
        assertEquals(1, j.get("warmup_passes").asInt(), "--warmup-seconds 0: one warm-up pass of each path");
        assertTrue(j.get("max_rel_diff").asDouble() < 1e-5, j.toString());
        JsonNode threaded = j.path("threaded_seconds");
        assertTrue(threaded.isNull() || threaded.isMissingNode(), "skipped, so no figure (not the string \"NaN\"): " + threaded);
    }

    @Test
    void benchPerSampleRunsTheFastPathOnWorkers() throws Exception {
        CliRunner.Result r = CliRunner.run("bench", "per-sample", "--arch", "cnn", "--samples", "40", "--batch-size", "8",
                "--repetitions", "1", "--warmup-seconds", "0", "--skip-threaded", "--device", "cpu", "--workers", "2", "--json");
        assertEquals(0, r.code(), r.toString());
        JsonNode j = JSON.readTree(r.out());
        assertEquals(2, j.get("workers").asInt());
        assertEquals(2, j.get("batch_workers").asInt(), "an explicit count applies to the batch pass too");
        assertTrue(j.get("max_rel_diff").asDouble() < 1e-5, "five batches on two replicas, against the loop: " + j);
    }

    @Test
    void benchPerSampleRunsTheCnnsRouteOnOneWorkerPerCoreByDefault() throws Exception {
        CliRunner.Result r = CliRunner.run("bench", "per-sample", "--arch", "cnn", "--samples", "40", "--batch-size", "8",
                "--repetitions", "1", "--warmup-seconds", "0", "--skip-threaded", "--device", "cpu", "--json");
        assertEquals(0, r.code(), r.toString());
        JsonNode j = JSON.readTree(r.out());
        assertEquals(Math.min(64, Runtime.getRuntime().availableProcessors()), j.get("workers").asInt(), j.toString());
        assertEquals(1, j.get("batch_workers").asInt(), "the batch estimator's default stays one worker");
        assertTrue(j.get("max_rel_diff").asDouble() < 1e-5, j.toString());
    }

    @Test
    void benchE2ePrintsTheDocumentedJsonAndWritesTheModelForThePyTorchScript(@TempDir Path dir) throws Exception {
        Path saved = dir.resolve("e2e.safetensors");
        CliRunner.Result r = CliRunner.run("bench", "e2e", "--device", "cpu", "--samples", "96", "--batch-size", "32", "--width", "4",
                "--warmup-batches", "1", "--workers", "2", "--save-model", saved.toString(), "--json");
        assertEquals(0, r.code(), r.toString());
        JsonNode j = JSON.readTree(r.out());
        for (String key : new String[] {"device", "samples", "batch_size", "selected", "seconds", "samples_per_second", "workers",
            "forget_samples", "importance_full_sums"}) {
            assertTrue(j.has(key), key + " in " + j);
        }
        assertEquals(96, j.get("samples").asInt());
        assertEquals(10, j.get("forget_samples").asInt(), "every 10th sample of 96");
        assertEquals(2, j.get("workers").asInt());
        assertEquals("cpu", j.get("placement").asText());
        for (String phase : new String[] {"importance_full", "importance_forget", "update", "total"}) {
            assertTrue(j.get("seconds").get(phase).asDouble() > 0, phase);
        }
        assertTrue(java.nio.file.Files.size(saved) > 0, "the model for scripts/pytorch_ssd_gpu.py");
    }

    @Test
    void benchE2eRefusesBadSettingsBeforeAnyWork() {
        for (String[] bad : new String[][] {{"--samples", "0"}, {"--forget-fraction", "1.5"}, {"--workers", "0"}, {"--arch", "vgg"},
            {"--save-model", "model.pt"}}) {
            CliRunner.Result r = CliRunner.run("bench", "e2e", "--device", "cpu", bad[0], bad[1], "--json");
            assertEquals(2, r.code(), r.toString());
            assertEquals("", r.out().strip(), "no JSON for a refused run");
        }
    }

    @Test
    void workersAndDeviceListsAreCheckedWhereTheyAreRead() {
        CliRunner.Result r = CliRunner.run("fisher", "--model", CliRunner.model().toString(), "--data", "fashion-mnist", "--workers", "0",
                "--out", "x.safetensors");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("--workers") && r.err().contains("between 1 and 64"), r.err());
        r = CliRunner.run("forget", "--model", CliRunner.model().toString(), "--data", "fashion-mnist", "--device", "cuda:0,x",
                "--forget-class", "1", "--out", "x.pt");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("cuda:N,M"), r.err());
    }

    @Test
    void dataOnDeviceIsCheckedAndOnDecodesTheDataOnce() throws Exception {
        CliRunner.Result r = CliRunner.run("forget", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--forget-class", "1", "--data-on-device", "always", "--out", dir.resolve("x.pt").toString());
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("--data-on-device") && r.err().contains("auto, on or off"), r.err());
        JsonNode[] reports = new JsonNode[2];
        String[] modes = {"on", "off"};
        for (int i = 0; i < 2; i++) {
            Path out = dir.resolve("placed-" + modes[i] + ".pt");
            r = CliRunner.run("forget", "--model", CliRunner.model().toString(), "--data", "fashion-mnist", "--train-limit", "300",
                    "--forget-class", "1", "--method", "lfssd", "--alpha", "2", "--data-on-device", modes[i], "--out",
                    out.toString(), "--json", "-q");
            assertEquals(0, r.code(), r.toString());
            assertTrue(Files.exists(out));
            reports[i] = JSON.readTree(r.out());
        }
        // decoded once into memory (this machine's "device") or streamed: the same run, bit for bit
        for (String key : new String[] {"output_fingerprint", "selected", "before", "after"}) {
            assertTrue(reports[0].has(key), key + " in " + reports[0]);
            assertEquals(reports[1].get(key), reports[0].get(key), key);
        }
    }

    @Test
    void benchKernelsPrintsTheDocumentedJson() throws Exception {
        Path report = dir.resolve("kernels.json");
        CliRunner.Result r = CliRunner.run("bench", "kernels", "--params", "20000", "--repetitions", "2", "--device", "vector", "--json",
                "--report", report.toString());
        assertEquals(0, r.code(), r.toString());
        JsonNode j = JSON.readTree(r.out());
        assertEquals(JSON.readTree(Files.readString(report)).get("params"), j.get("params"), "--report holds the same report");
        assertEquals("vector", j.get("backend").asText());
        assertEquals(20000, j.get("params").asLong());
        assertTrue(j.get("kernels").size() >= 8);
        for (JsonNode k : j.get("kernels")) {
            for (String key : new String[] {"name", "ms", "gbps", "copy_gbps", "ratio_to_copy"}) {
                assertTrue(k.has(key), key + " in " + k);
            }
            assertTrue(k.get("gbps").asDouble() > 0);
            assertTrue(k.get("fraction_of_peak").isNull(), "the CPU back ends know no peak bandwidth: " + k);
        }
        assertTrue(j.get("baseline").asText().contains("one contiguous array of 20,000 floats"), j.get("baseline").asText());
        assertTrue(j.get("peak_gbps").isNull());
        JsonNode small = j.get("small_list");
        assertEquals(8, small.get("tensors").asInt());
        assertEquals(105_866, small.get("params").asLong());
        assertTrue(small.get("empty_launch_microseconds").isNull(), "no kernel launches on the CPU");
        assertEquals(j.get("kernels").size() - 1, small.get("kernels").size(), "every kernel but the copy, on the small list too");
        for (JsonNode k : small.get("kernels")) {
            assertTrue(k.get("microseconds").asDouble() > 0, k.toString());
        }
    }

    @Test
    void demoForgetsAClass() throws Exception {
        CliRunner.Result r = CliRunner.run("demo", "--train-limit", "1500", "--json", "--quiet");
        assertEquals(0, r.code(), r.toString());
        JsonNode j = JSON.readTree(r.out());
        assertTrue(j.get("after").get("forget_test_acc").asDouble() < 0.05, j.get("after").toString());
        assertTrue(j.get("before").get("forget_test_acc").asDouble() > 0.9);
    }

    @Test
    void helpAndVersion() {
        CliRunner.Result r = CliRunner.run("--help");
        assertEquals(0, r.code());
        for (String cmd : new String[] {"forget", "fisher", "eval", "demo", "bench"}) {
            assertTrue(r.out().contains(cmd), cmd);
        }
        assertEquals(0, CliRunner.run("forget", "--help").code());
        assertTrue(CliRunner.run("--version").out().contains("lethe"));
        assertTrue(Files.exists(CliRunner.model()));
    }
}
