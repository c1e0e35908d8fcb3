package ai.lethe.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.lethe.data.Batch;
import ai.lethe.io.LetheFormatException;
import ai.lethe.testing.Fixtures;

class TorchScriptModelTest {

    @TempDir
    Path dir;

    static Batch batch(int n, int[] shape) {
        int per = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        float[] x = new float[n * per];
        for (int i = 0; i < x.length; i++) {
            x[i] = ((i * 37) % 101) / 100f;
        }
        int[] y = new int[n];
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 10;
            idx[i] = i;
        }
        return new Batch(x, y, idx, n, shape);
    }

    @Test
    void loadsTheFixtureCnn() throws IOException {
        try (Model m = TorchScriptModel.load(Fixtures.cnnModel())) {
            assertEquals(List.of("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias",
                    "fc2.weight", "fc2.bias"), m.parameters().stream().map(ParameterInfo::name).toList());
            assertArrayEquals(new long[] {64, 1568}, m.parameters().get(4).shape());
            assertEquals(105_866, m.parameterCount());
            assertEquals(10, m.numClasses(new int[] {1, 28, 28}));
            assertEquals(64, m.fingerprint().length());
        }
    }

    @Test
    void savedModelLoadsBackWithTheSameOutputs() throws IOException {
        Path out = dir.resolve("changed.pt");
        Batch b = batch(5, new int[] {1, 28, 28});
        float[] logits;
        String fingerprint;
        try (Model m = TorchScriptModel.load(Fixtures.cnnModel())) {
            float[][] p = m.readParameters();
            p[6][3] = 0.5f; // change a weight, as unlearning does
            m.writeParameters(p);
            logits = m.logits(b);
            fingerprint = m.fingerprint();
            m.save(out);
        }
        try (Model again = TorchScriptModel.load(out)) {
            assertArrayEquals(logits, again.logits(b), "reloaded model computes the same logits");
            assertEquals(fingerprint, again.fingerprint());
            assertEquals(0.5f, again.readParameters()[6][3]);
        }
    }

    @Test
    void writingParametersChangesTheFingerprint() throws IOException {
        try (Model m = TorchScriptModel.load(Fixtures.cnnModel())) {
            String before = m.fingerprint();
            float[][] p = m.readParameters();
            p[0][0] = Math.nextUp(p[0][0]);
            m.writeParameters(p);
            assertNotEquals(before, m.fingerprint());
        }
    }

    @Test
    void gradientsOfBothLossesAreFiniteAndNonZero() throws IOException {
        try (Model m = TorchScriptModel.load(Fixtures.cnnModel())) {
            float[][] g = m.readParameters();
            for (Loss loss : Loss.values()) {
                double value = m.backward(batch(4, new int[] {1, 28, 28}), loss);
                assertTrue(Double.isFinite(value) && value > 0, loss + " value " + value);
                m.gradients(g);
                double norm = 0;
                for (float[] t : g) {
                    for (float v : t) {
                        assertTrue(Float.isFinite(v));
                        norm += v * v;
                    }
                }
                assertTrue(norm > 0, loss + " gives a non-zero gradient");
            }
        }
    }

    @Test
    void gradientsAreResetBetweenBatches() throws IOException {
        try (Model m = TorchScriptModel.load(Fixtures.cnnModel())) {
            Batch b = batch(3, new int[] {1, 28, 28});
            float[][] first = m.readParameters();
            float[][] second = m.readParameters();
            m.backward(b, Loss.CROSS_ENTROPY);
            m.gradients(first);
            m.backward(b, Loss.CROSS_ENTROPY);
            m.gradients(second);
            for (int t = 0; t < first.length; t++) {
                assertArrayEquals(first[t], second[t], "the same batch twice gives the same gradient, not its double");
            }
        }
    }

    @Test
    void aShapeTheModelRejectsIsOneClearLine() throws IOException {
        try (Model m = TorchScriptModel.load(Fixtures.cnnModel())) {
            ModelException e = assertThrows(ModelException.class, () -> m.numClasses(new int[] {3, 32, 32}));
            assertTrue(e.getMessage().startsWith("the model rejects input of shape [1, 3, 32, 32]"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        }
    }

    @Test
    void missingCorruptAndForeignFilesAreRejected() throws IOException {
        assertThrows(NoSuchFileException.class, () -> TorchScriptModel.load(dir.resolve("absent.pt")));
        Path garbage = dir.resolve("garbage.pt");
        Files.writeString(garbage, "this is not a zip archive");
        LetheFormatException e = assertThrows(LetheFormatException.class, () -> TorchScriptModel.load(garbage));
        assertTrue(e.getMessage().contains("not a loadable TorchScript model"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        Path truncated = dir.resolve("truncated.pt");
        byte[] all = Files.readAllBytes(Fixtures.cnnModel());
        Files.write(truncated, Arrays.copyOf(all, all.length / 2));
        assertThrows(LetheFormatException.class, () -> TorchScriptModel.load(truncated));
        assertThrows(IllegalArgumentException.class, () -> Models.load(dir.resolve("model.onnx")));
    }
}
