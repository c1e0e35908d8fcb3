package ai.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.lethe.io.SafetensorsWriter;

/**
 * Every kind of bad input gives one clear line on stderr, a non-zero exit (2 for usage, 1 otherwise) and
 * no output file.
 */
class CliBadInputTest {

    @TempDir
    Path dir;

    private CliRunner.Result forget(String... extra) {
        List<String> args = new ArrayList<>(List.of("forget", "--out", out().toString(), "--quiet", "--no-eval"));
        args.addAll(Arrays.asList(extra));
        return CliRunner.run(args.toArray(new String[0]));
    }

    private Path out() {
        return dir.resolve("out.pt");
    }

    private void assertFails(CliRunner.Result r, int code, String fragment) {
        assertEquals(code, r.code(), r.toString());
        String err = r.err().strip();
        assertFalse(err.isEmpty(), r.toString());
        assertEquals(1, err.lines().count(), "exactly one line on stderr: " + err);
        assertTrue(err.contains(fragment), "'" + fragment + "' in: " + err);
        assertFalse(Files.exists(out()), "no output file after a failure");
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().contains(".partial")), "no partial files");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private String model() {
        return CliRunner.model().toString();
    }

    @Test
    void usageErrorsExitWith2() {
        assertFails(forget("--data", "fashion-mnist", "--forget-class", "1"), 2, "Missing required option: '--model");
        assertFails(forget("--model", model(), "--data", "fashion-mnist"), 2, "say what to forget");
        assertFails(forget("--model", model(), "--data", "fashion-mnist", "--forget-class", "1", "--alpha", "-1"), 2, "--alpha");
        assertFails(forget("--model", model(), "--data", "fashion-mnist", "--forget-class", "1", "--method", "magic"), 2,
                "unknown method");
        assertFails(forget("--model", model(), "--data", "fashion-mnist", "--forget-class", "1", "--method", "lfssd",
                "--estimator", "batch"), 2, "label-free");
        assertFails(forget("--model", model(), "--data", "fashion-mnist", "--forget-class", "1", "--forget-random", "0.1"), 2,
                "mutually exclusive");
        assertFails(forget("--model", model(), "--data", "fashion-mnist", "--forget-random", "1.5"), 2, "strictly between 0 and 1");
        assertFails(forget("--model", model(), "--data", "fashion-mnist", "--forget-class", "1", "--device", "tpu"), 2,
                "unknown device");
        assertFails(forget("--model", model(), "--data", "fashion-mnist", "--forget-class", "1", "--batch-size", "0"), 2,
                "--batch-size");
    }

    @Test
    void missingAndCorruptModelFiles() throws Exception {
        assertFails(forget("--model", dir.resolve("absent.pt").toString(), "--data", "fashion-mnist", "--forget-class", "1"), 1,
                "absent.pt");
        Path corrupt = dir.resolve("corrupt.pt");
        byte[] all = Files.readAllBytes(CliRunner.model());
        Files.write(corrupt, Arrays.copyOf(all, 1000));
        assertFails(forget("--model", corrupt.toString(), "--data", "fashion-mnist", "--forget-class", "1"), 1,
                "not a loadable TorchScript model");
        assertFails(forget("--model", dir.resolve("m.onnx").toString(), "--data", "fashion-mnist", "--forget-class", "1"), 1,
                "unknown format");
    }

    @Test
    void missingOrUnknownData() {
        assertFails(forget("--model", model(), "--data", "idx:" + dir.resolve("nowhere"), "--forget-class", "1"), 1, "nowhere");
        assertFails(forget("--model", model(), "--data", "cifar-100", "--forget-class", "1"), 2, "unknown --data");
    }

    @Test
    void emptyForgetSetAndClassOutOfRange() {
        // the first three Fashion-MNIST training labels are 9, 0, 0
        assertFails(forget("--model", model(), "--data", "fashion-mnist", "--train-limit", "3", "--forget-class", "5"), 1,
                "forget set is empty");
        assertFails(forget("--model", model(), "--data", "fashion-mnist", "--forget-class", "10"), 1, "out of range");
        Path idx = dir.resolve("idx.txt");
        assertFails(forget("--model", model(), "--data", "fashion-mnist", "--forget-indices", idx.toString()), 1, "idx.txt");
    }

    /** A safetensors data directory: train and test with x [n, c, h, w] and labels y. */
    private Path data(int c, int h, int w, int[] y, float firstPixel) throws Exception {
        Path d = Files.createTempDirectory(dir, "data");
        for (String split : new String[] {"train", "test"}) {
            float[] x = new float[y.length * c * h * w];
            for (int i = 0; i < x.length; i++) {
                x[i] = (i % 97) / 97f;
            }
            x[0] = firstPixel;
            if (firstPixel == Float.MAX_VALUE) {
                Arrays.fill(x, 0, c * h * w, firstPixel); // the whole first sample: activations overflow
            }
            long[] labels = Arrays.stream(y).asLongStream().toArray();
            new SafetensorsWriter().addFloats("x", new long[] {y.length, c, h, w}, x).addLongs("y", new long[] {y.length}, labels)
                    .write(d.resolve(split + ".safetensors"));
        }
        return d;
    }

    @Test
    void labelsOutOfRange() throws Exception {
        Path d = data(1, 28, 28, new int[] {0, 1, 12, 3}, 0f);
        assertFails(forget("--model", model(), "--data", "safetensors:" + d, "--forget-class", "1"), 1,
                "label 12 of training sample 2 is out of range");
    }

    @Test
    void aShapeTheModelRejects() throws Exception {
        Path d = data(3, 8, 8, new int[] {0, 1, 2, 3}, 0f);
        assertFails(forget("--model", model(), "--data", "safetensors:" + d, "--forget-class", "1"), 1,
                "the model rejects input of shape [1, 3, 8, 8]");
    }

    @Test
    void nonFiniteImagesAndGradients() throws Exception {
        Path nan = data(1, 28, 28, new int[] {0, 1, 2, 1}, Float.NaN);
        assertFails(forget("--model", model(), "--data", "safetensors:" + nan, "--forget-class", "1"), 1,
                "sample 0 holds NaN at value 0; images must be finite");
        Path huge = data(1, 28, 28, new int[] {0, 1, 2, 1}, Float.MAX_VALUE);
        assertFails(forget("--model", model(), "--data", "safetensors:" + huge, "--forget-class", "1"), 1, "NaN/Inf");
    }

    @Test
    void truncatedDataFile() throws Exception {
        Path d = data(1, 28, 28, new int[] {0, 1, 2, 1}, 0f);
        Path train = d.resolve("train.safetensors");
        byte[] all = Files.readAllBytes(train);
        Files.write(train, Arrays.copyOf(all, all.length - 100));
        assertFails(forget("--model", model(), "--data", "safetensors:" + d, "--forget-class", "1"), 1, "truncated");
    }

    @Test
    void importanceOfAnotherModelOrAnotherFile() throws Exception {
        Path imp = dir.resolve("imp.safetensors");
        assertEquals(0, CliRunner.run("fisher", "--model", model(), "--data", "fashion-mnist", "--train-limit", "300",
                "--out", imp.toString(), "-q").code());
        // the same importance on other data: refused
        assertFails(forget("--model", model(), "--data", "fashion-mnist", "--train-limit", "200", "--forget-class", "1",
                "--importance-full", imp.toString()), 1, "was computed on fashion-mnist train[:300]");
        // a plain safetensors file without Lethe's metadata: refused
        Path plain = dir.resolve("plain.safetensors");
        new SafetensorsWriter().addFloats("w", new long[] {1}, new float[] {1}).write(plain);
        assertFails(forget("--model", model(), "--data", "fashion-mnist", "--train-limit", "300", "--forget-class", "1",
                "--importance-full", plain.toString()), 1, "not a Lethe importance file");
        // another model: make one by forgetting, then use the first model's importance with it
        Path other = dir.resolve("other.pt");
        assertEquals(0, CliRunner.run("forget", "--model", model(), "--data", "fashion-mnist", "--train-limit", "300",
                "--forget-class", "1", "--alpha", "1", "--out", other.toString(), "--no-eval", "-q").code());
        assertFails(forget("--model", other.toString(), "--data", "fashion-mnist", "--train-limit", "300", "--forget-class", "1",
                "--importance-full", imp.toString()), 1, "computed for another model");
    }

    @Test
    void outputThatIsADirectory() throws Exception {
        Files.createDirectories(dir.resolve("outdir"));
        CliRunner.Result r = CliRunner.run("forget", "--model", model(), "--data", "fashion-mnist", "--forget-class", "1",
                "--out", dir.resolve("outdir").toString(), "-q");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("is a directory"), r.err());
    }

    @Test
    void anOutputThatIsAnInputAnotherOutputOrNotAFileIsRefusedBeforeAnyWork() throws Exception {
        Path model = dir.resolve("model.pt");
        Files.copy(CliRunner.model(), model);
        byte[] original = Files.readAllBytes(model);
        Path link = dir.resolve("model-link.pt");
        Files.createSymbolicLink(link, model.getFileName());
        String[] base = {"--model", model.toString(), "--data", "fashion-mnist", "--train-limit", "200", "--forget-class", "1", "-q",
                         "--no-eval"};

        assertFails(CliRunner.run(concat(new String[] {"forget", "--out", model.toString()}, base)), 2,
                "is the input given as --model");
        assertFails(CliRunner.run(concat(new String[] {"forget", "--out", link.toString()}, base)), 2,
                "is the input given as --model");
        assertFails(CliRunner.run(concat(new String[] {"forget", "--out", out().toString(), "--report", out().toString()}, base)), 2,
                "--report and --out name the same file");
        Path indices = dir.resolve("forget.txt");
        Files.writeString(indices, "3\n5\n");
        assertFails(CliRunner.run("fisher", "--model", model.toString(), "--data", "fashion-mnist", "--train-limit", "200",
                "--subset", "forget", "--forget-indices", indices.toString(), "--out", indices.toString(), "-q"), 2,
                "is the input given as --forget-indices");
        assertFails(CliRunner.run("eval", "--model", link.toString(), "--data", "fashion-mnist", "--train-limit", "200",
                "--forget-class", "1", "--report", dir.resolve("..").resolve(dir.getFileName()).resolve("model.pt").toString(), "-q"), 2,
                "is the input given as --model");
        assertFails(CliRunner.run(concat(new String[] {"forget", "--out", ""}, base)), 2, "--out needs a file name");
        Path fifo = dir.resolve("pipe");
        if (new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0) {
            assertFails(CliRunner.run(concat(new String[] {"forget", "--out", out().toString(), "--report", fifo.toString()}, base)), 2,
                    "is not a regular file");
            assertFalse(Files.isRegularFile(fifo), "the pipe is still a pipe");
        }
        assertTrue(Files.isSymbolicLink(link));
        assertTrue(Arrays.equals(original, Files.readAllBytes(model)), "the model is untouched");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void settingsTheCoreRefusesAreUsageErrorsAndComparisonsCheckThemBeforeAnyWork() {
        assertFails(forget("--model", model(), "--data", "fashion-mnist", "--train-limit", "-1", "--forget-class", "1"), 2,
                "--train-limit");
        assertFails(forget("--model", model(), "--data", "fashion-mnist", "--forget-class", "1", "--method", "neggrad",
                "--forget-weight", "NaN"), 2, "--forget-weight must be a positive number");
        assertFails(forget("--model", model(), "--data", "fashion-mnist", "--forget-class", "1", "--method", "deepclean",
                "--gamma", "-1"), 2, "--gamma must be a positive number");
        assertFails(forget("--model", model(), "--data", "fashion-mnist", "--forget-class", "1", "--method", "finetune",
                "--epochs", "0"), 2, "--epochs must be at least 1 for finetune");
        assertFails(CliRunner.run("train", "--arch", "mlp", "--data", "fashion-mnist", "--momentum", "1.5", "--out",
                dir.resolve("m.safetensors").toString(), "-q"), 2, "--momentum must be within [0, 1)");
        assertFails(CliRunner.run("train", "--arch", "mlp", "--data", "fashion-mnist", "--out", out().toString(), "-q"), 2,
                "name the file *.safetensors");
        assertFails(CliRunner.run("demo", "--method", "deepclean", "-q"), 2, "the demo runs ssd or lfssd");
        assertFails(CliRunner.run("demo", "--alpha", "-2", "-q"), 2, "--alpha must be a positive number");
        Path compareDir = dir.resolve("cmp");
        assertFails(CliRunner.run("compare", "--model", model(), "--data", "fashion-mnist", "--train-limit", "200",
                "--forget-class", "1", "--methods", "ssd,deepclean", "--alpha", "-1", "--report", compareDir.toString(), "-q"), 2,
                "--alpha must be a positive number");
        assertFalse(Files.exists(compareDir), "nothing was started");
    }

    @Test
    void anEmptyRetainSetAndImportancesGivenAsWeightsAreRefused() throws Exception {
        assertFails(forget("--model", model(), "--data", "fashion-mnist", "--train-limit", "3", "--forget-class", "0,9"), 1,
                "the retain set is empty");
        Path importance = dir.resolve("imp.safetensors");
        CliRunner.Result fisher = CliRunner.run("fisher", "--model", model(), "--data", "fashion-mnist", "--train-limit", "64",
                "--subset", "full", "--out", importance.toString(), "-q");
        assertEquals(0, fisher.code(), fisher.toString());
        assertFails(CliRunner.run("eval", "--model", model(), "--weights", importance.toString(), "--data", "fashion-mnist",
                "--train-limit", "64", "--forget-class", "1", "-q"), 1, "holds importances");
    }

    @Test
    void optionsTheMethodDoesNotReadAreNamedOnStderr() {
        CliRunner.Result r = CliRunner.run("forget", "--model", model(), "--data", "fashion-mnist", "--train-limit", "200",
                "--forget-class", "1", "--method", "ssd", "--gamma", "3", "--rank", "8", "--max-retain-drop", "0.1", "--no-eval", "-q",
                "--out", out().toString());
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.err().contains("note: --gamma, --rank do not apply to ssd and are ignored"), r.err());
        assertTrue(r.err().contains("note: --max-retain-drop only applies with --alpha auto and is ignored"), r.err());
        // Mnemonic reads the same search settings for its lambda1 auto (the bundled CNN has no codes: exit 1 after the note)
        CliRunner.Result mnemonic = CliRunner.run("forget", "--model", model(), "--data", "fashion-mnist", "--train-limit", "200",
                "--forget-class", "1", "--method", "mnemonic", "--max-retain-drop", "0.1", "--no-eval", "-q", "--out", out().toString());
        assertTrue(mnemonic.err().contains("note: --max-retain-drop only applies with --lambda1 auto and is ignored"), mnemonic.err());
        CliRunner.Result plain = CliRunner.run("forget", "--model", model(), "--data", "fashion-mnist", "--train-limit", "200",
                "--forget-class", "1", "--method", "ssd", "--alpha", "5", "--no-eval", "-q", "--out", out().toString());
        assertEquals(0, plain.code(), plain.toString());
        assertFalse(plain.err().contains("note:"), plain.err());
    }

    @Test
    void outputsInsideProfileAndCompareDirectoriesAreCheckedToo() throws Exception {
        Path prof = dir.resolve("prof");
        assertFails(CliRunner.run("profile", "--model", model(), "--data", "fashion-mnist", "--train-limit", "200", "--forget-class",
                "1", "--profile-dir", prof.toString(), "--out", prof.resolve("trace.json").toString(), "-q"), 2,
                "--profile-dir and --out name the same file");
        Path cmp = Files.createDirectory(dir.resolve("cmp"));
        Path model = cmp.resolve("ssd.pt");
        Files.copy(CliRunner.model(), model);
        assertFails(CliRunner.run("compare", "--model", model.toString(), "--data", "fashion-mnist", "--train-limit", "200",
                "--forget-class", "1", "--methods", "ssd", "--alpha", "5", "--report", cmp.toString(), "-q"), 2,
                "is the input given as --model");
        assertTrue(Arrays.equals(Files.readAllBytes(CliRunner.model()), Files.readAllBytes(model)), "the model is untouched");
        Path data = data(1, 28, 28, new int[] {0, 1, 2, 1}, 0f);
        byte[] train = Files.readAllBytes(data.resolve("train.safetensors"));
        assertFails(CliRunner.run("fisher", "--model", model(), "--data", "safetensors:" + data, "--subset", "full",
                "--out", data.resolve("train.safetensors").toString(), "-q"), 2, "is the input given as --data");
        assertTrue(Arrays.equals(train, Files.readAllBytes(data.resolve("train.safetensors"))), "the data is untouched");
        assertFails(CliRunner.run("fisher", "--model", model(), "--data", "fashion-mnist", "--train-limit", "3", "--subset", "retain",
                "--forget-class", "0,9", "--out", dir.resolve("r.safetensors").toString(), "-q"), 1, "the retain set is empty");
    }

    @Test
    void fisherSelftestAndBenchCheckTheirReportBeforeAnyWork() throws Exception {
        Path model = dir.resolve("model.pt");
        Files.copy(CliRunner.model(), model);
        byte[] original = Files.readAllBytes(model);
        Path subdir = Files.createDirectory(dir.resolve("reports"));
        Path importance = dir.resolve("i.safetensors");
        assertFails(CliRunner.run("fisher", "--model", model.toString(), "--data", "fashion-mnist", "--train-limit", "200",
                "--out", importance.toString(), "--report", importance.toString(), "-q"), 2, "--report and --out name the same file");
        assertFails(CliRunner.run("fisher", "--model", model.toString(), "--data", "fashion-mnist", "--train-limit", "200",
                "--out", importance.toString(), "--report", model.toString(), "-q"), 2, "is the input given as --model");
        assertFalse(Files.exists(importance), "no importance was computed");
        assertFails(CliRunner.run("fisher", "--model", model.toString(), "--data", "fashion-mnist", "--out", importance.toString(),
                "--spark", "local[1]", "--report", subdir.toString(), "-q"), 2, "--report " + subdir + " is a directory");
        assertFails(CliRunner.run("selftest", "--device", "scalar", "--quick", "--report", subdir.toString()), 2,
                "--report " + subdir + " is a directory");
        assertFails(CliRunner.run("bench", "kernels", "--params", "1000", "--repetitions", "1", "--report", ""), 2,
                "--report needs a file name");
        assertFails(CliRunner.run("bench", "forget", "--model", model.toString(), "--repetitions", "1", "--report", model.toString()), 2,
                "is the input given as --model");
        assertFails(CliRunner.run("bench", "profiler", "--model", model.toString(), "--repetitions", "1", "--report",
                dir.resolve("..").resolve(dir.getFileName()).resolve("model.pt").toString()), 2, "is the input given as --model");
        Path fifo = dir.resolve("pipe");
        if (new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0) {
            assertFails(CliRunner.run("bench", "per-sample", "--samples", "8", "--report", fifo.toString()), 2, "is not a regular file");
            assertFalse(Files.isRegularFile(fifo), "the pipe is still a pipe");
        }
        try (var left = Files.list(subdir)) {
            assertEquals(0, left.count(), "nothing written into the directory named as --report");
        }
        assertTrue(Arrays.equals(original, Files.readAllBytes(model)), "the model is untouched");
    }
}
