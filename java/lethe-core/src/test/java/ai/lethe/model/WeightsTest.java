package ai.lethe.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.lethe.io.LetheFormatException;
import ai.lethe.io.SafetensorsWriter;
import ai.lethe.testing.Fixtures;

class WeightsTest {

    @TempDir
    Path dir;

    @Test
    void savedWeightsLoadIntoAFreshModel() throws IOException {
        Path f = dir.resolve("w.safetensors");
        float[][] changed;
        String fingerprint;
        try (Model m = TorchScriptModel.load(Fixtures.cnnModel())) {
            changed = m.readParameters();
            changed[2][5] = 0.125f;
            m.writeParameters(changed);
            fingerprint = m.fingerprint();
            Weights.save(m, f);
        }
        try (Model m = TorchScriptModel.load(Fixtures.cnnModel())) {
            Weights.LoadSummary s = Weights.load(m, f);
            assertEquals(8, s.loaded());
            assertTrue(s.ignored().isEmpty());
            assertEquals(fingerprint, m.fingerprint());
            assertArrayEquals(changed[2], m.readParameters()[2]);
        }
    }

    @Test
    void stateDictsWithBuffersLoadAndMismatchesAreRefused() throws IOException {
        try (Model m = TorchScriptModel.load(Fixtures.cnnModel())) {
            float[][] p = m.readParameters();
            SafetensorsWriter w = new SafetensorsWriter();
            for (int i = 0; i < p.length; i++) {
                w.addFloats(m.parameters().get(i).name(), m.parameters().get(i).shape(), p[i]);
            }
            w.addLongs("bn.num_batches_tracked", new long[] {1}, new long[] {7});
            Path extra = dir.resolve("extra.safetensors");
            w.write(extra);
            assertEquals(java.util.List.of("bn.num_batches_tracked"), Weights.load(m, extra).ignored());

            Path missing = dir.resolve("missing.safetensors");
            new SafetensorsWriter().addFloats("conv1.weight", new long[] {16, 1, 3, 3}, p[0]).write(missing);
            assertTrue(assertThrows(LetheFormatException.class, () -> Weights.load(m, missing)).getMessage()
                    .contains("no tensor for parameter conv1.bias"));

            Path shape = dir.resolve("shape.safetensors");
            SafetensorsWriter bad = new SafetensorsWriter();
            for (int i = 0; i < p.length; i++) {
                long[] s = i == 7 ? new long[] {2, 5} : m.parameters().get(i).shape();
                bad.addFloats(m.parameters().get(i).name(), s, p[i]);
            }
            bad.write(shape);
            String before = m.fingerprint();
            assertTrue(assertThrows(LetheFormatException.class, () -> Weights.load(m, shape)).getMessage().contains("fc2.bias has shape [2, 5]"));
            assertEquals(before, m.fingerprint(), "a refused file changes nothing");

            p[0][0] = Float.NaN;
            SafetensorsWriter nan = new SafetensorsWriter();
            for (int i = 0; i < p.length; i++) {
                nan.addFloats(m.parameters().get(i).name(), m.parameters().get(i).shape(), p[i]);
            }
            Path nanFile = dir.resolve("nan.safetensors");
            nan.write(nanFile);
            assertThrows(LetheFormatException.class, () -> Weights.load(m, nanFile));
            assertEquals(before, m.fingerprint());
        }
    }
}
