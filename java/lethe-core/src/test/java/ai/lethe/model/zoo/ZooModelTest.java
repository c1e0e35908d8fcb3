package ai.lethe.model.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.lethe.data.Batch;
import ai.lethe.data.BatchStream;
import ai.lethe.data.DataSource;
import ai.lethe.io.LetheFormatException;
import ai.lethe.io.SafetensorsWriter;
import ai.lethe.model.Loss;
import ai.lethe.model.Model;
import ai.lethe.model.TorchScriptModel;
import ai.lethe.testing.Fixtures;

/** The Java-defined architectures against PyTorch: names, shapes, logits, buffers, LoRA. */
class ZooModelTest {

    @TempDir
    Path dir;

    static Path zoo(String file) {
        try {
            return Path.of(ZooModelTest.class.getResource("/fixtures/zoo/" + file).toURI());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Batch fashionBatch(int n) throws IOException {
        DataSource d = Fixtures.fashionMnist(n);
        try (BatchStream s = BatchStream.all(d.train(), d.train().labels(), n)) {
            return s.next();
        }
    }

    private static void assertLogitsClose(float[] expected, float[] got, double atol) {
        assertEquals(expected.length, got.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], atol, "logit " + i);
        }
    }

    @Test
    void cnnFromAPyTorchStateDictMatchesTheTorchScript() throws IOException {
        Batch b = fashionBatch(64);
        try (Model ts = TorchScriptModel.load(Fixtures.cnnModel());
             ZooModel zoo = ZooModel.load(zoo("cnn-state-dict.safetensors"), "cnn")) {
            assertEquals(ts.parameters(), zoo.parameters(), "the same names and shapes, in the same order");
            assertEquals(ts.fingerprint(), zoo.fingerprint(), "the same parameters");
            assertLogitsClose(ts.logits(b), zoo.logits(b), 1e-5);
            assertEquals(new ZooConfig(1, 28, 10, 64, 1000), zoo.net().config(), "shape inferred from the state_dict");
        }
    }

    @Test
    void resnet18CifarMatchesPyTorchIncludingBatchNormStatistics() throws IOException {
        JsonNode j = new ObjectMapper().readTree(zoo("resnet18-cifar-w8-logits.json").toFile());
        float[] x = new float[j.get("input").size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) j.get("input").get(i).asDouble();
        }
        float[] expected = new float[j.get("logits").size()];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = (float) j.get("logits").get(i).asDouble();
        }
        Batch b = new Batch(x, new int[3], new int[3], 3, new int[] {1, 28, 28});
        try (ZooModel zoo = ZooModel.load(zoo("resnet18-cifar-w8.safetensors"), "resnet18-cifar");
             Model ts = TorchScriptModel.load(zoo("resnet18-cifar-w8.pt"))) {
            assertEquals(8, zoo.net().config().width(), "width read off conv1");
            assertEquals(ts.parameters(), zoo.parameters());
            assertLogitsClose(expected, zoo.logits(b), 1e-4);
            assertLogitsClose(ts.logits(b), zoo.logits(b), 1e-4);
        }
    }

    @Test
    void resnet18HasTorchvisionsStateDict() throws IOException {
        JsonNode tv = new ObjectMapper().readTree(zoo("resnet18-torchvision.json").toFile());
        List<String> expectedParams = new ArrayList<>();
        List<String> expectedBuffers = new ArrayList<>();
        for (JsonNode e : tv) {
            String name = e.get("name").asText();
            String shape = e.get("shape").toString();
            boolean buffer = name.endsWith("running_mean") || name.endsWith("running_var") || name.endsWith("num_batches_tracked");
            (buffer ? expectedBuffers : expectedParams).add(name + shape);
        }
        Net net = Zoo.create("resnet18", ZooConfig.defaults(3, 224, 10), 0);
        List<String> params = new ArrayList<>();
        net.parameters().forEach((n, t) -> params.add(n + java.util.Arrays.toString(t.sizes().vec().get()).replace(" ", "")));
        List<String> buffers = new ArrayList<>();
        net.buffers().forEach((n, t) -> buffers.add(n + java.util.Arrays.toString(t.sizes().vec().get()).replace(" ", "")));
        assertEquals(expectedParams, params, "named_parameters() in torchvision's order");
        assertEquals(expectedBuffers, buffers);
        long count = net.parameters().values().stream().mapToLong(Tensor::numel).sum();
        assertEquals(11_181_642, count, "ResNet-18 with a 10-class head");
    }

    @Test
    void aReplicaOfEveryArchitectureEqualsItsSourceThoughItsNetStartsAtZero() {
        for (String arch : Zoo.ARCHITECTURES) {
            ZooConfig c = new ZooConfig(3, 32, 10, 4, 32);
            // what the seed draws is left at zero (BatchNorm's constant ones and zeros stay): a replica's values can only
            // come from its copy
            Net drawn = Zoo.create(arch, c, 7), blank = Zoo.createToFill(arch, c);
            drawn.parameters().forEach((n, t) -> {
                boolean isDrawn = t.max().item_double() != t.min().item_double();
                assertEquals(isDrawn ? 0.0 : t.abs().sum().item_double(), blank.parameters().get(n).abs().sum().item_double(), arch + " " + n);
            });
            try (ZooModel m = ZooModel.create(arch, c, 7); ZooModel copy = m.replicate()) {
                assertEquals(m.fingerprint(), copy.fingerprint(), arch + ": same parameters and buffers");
                float[][] want = m.readParameters(), got = copy.readParameters();
                for (int t = 0; t < want.length; t++) {
                    assertArrayEquals(want[t], got[t], arch + " parameter " + t);
                }
            }
        }
    }

    @Test
    void savedModelsLoadBackWithoutNamingTheirArchitecture() throws IOException {
        Batch b = fashionBatch(16);
        for (String arch : Zoo.ARCHITECTURES) {
            ZooConfig c = new ZooConfig(1, 28, 10, 4, 32);
            Path f = dir.resolve(arch + ".safetensors");
            float[] logits;
            String fingerprint;
            try (ZooModel m = ZooModel.create(arch, c, 42)) {
                m.setTraining(true);
                m.backward(b, Loss.CROSS_ENTROPY); // a train-mode pass moves BatchNorm's running statistics
                m.setTraining(false);
                logits = m.logits(b);
                fingerprint = m.fingerprint();
                m.save(f);
            }
            try (ZooModel back = ZooModel.load(f, null)) {
                assertEquals(arch, back.net().arch());
                assertEquals(c, back.net().config());
                assertEquals(fingerprint, back.fingerprint(), arch);
                assertArrayEquals(logits, back.logits(b), arch + ": buffers came back too");
            }
        }
    }

    @Test
    void seedsMakeModelsReproducible() {
        ZooConfig c = new ZooConfig(1, 28, 10, 4, 32);
        try (ZooModel a = ZooModel.create("resnet18-cifar", c, 7); ZooModel b = ZooModel.create("resnet18-cifar", c, 7);
             ZooModel other = ZooModel.create("resnet18-cifar", c, 8)) {
            assertEquals(a.fingerprint(), b.fingerprint());
            assertNotEquals(a.fingerprint(), other.fingerprint());
        }
    }

    @Test
    void trainModeUpdatesBatchNormStatistics() throws IOException {
        Batch b = fashionBatch(8);
        try (ZooModel m = ZooModel.create("resnet18-cifar", new ZooConfig(1, 28, 10, 4, 32), 1)) {
            Tensor tracked = m.net().buffers().get("bn1.num_batches_tracked");
            Tensor mean = m.net().buffers().get("bn1.running_mean");
            float before = mean.data_ptr_float().get(0);
            m.logits(b);
            assertEquals(0, tracked.item_long(), "eval mode leaves the statistics alone");
            m.setTraining(true);
            m.backward(b, Loss.CROSS_ENTROPY);
            m.setTraining(false);
            assertEquals(1, tracked.item_long());
            assertNotEquals(before, mean.data_ptr_float().get(0));
        }
    }

    @Test
    void mergedLoraComputesWhatTheBranchesComputed() throws IOException {
        Batch b = fashionBatch(8);
        for (String arch : List.of("cnn", "resnet18-cifar")) {
            try (ZooModel m = ZooModel.create(arch, new ZooConfig(1, 28, 10, 4, 32), 3)) {
                List<String> layers = m.net().adaptableLayers();
                List<String> lastTwo = layers.subList(layers.size() - 2, layers.size());
                if (arch.equals("resnet18-cifar")) {
                    lastTwo = List.of("layer4.1.conv2", "fc"); // a convolution and a linear layer
                }
                SplittableRandom r = new SplittableRandom(5);
                float[] base = m.logits(b);
                for (String layer : lastTwo) {
                    Lora branch = m.net().addLora(layer, 2, 0.5f, r);
                    try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
                        branch.tensors()[1].uniform_(-0.5, 0.5, new org.bytedeco.pytorch.GeneratorOptional()); // B = 0 would make the test vacuous
                    }
                }
                float[] unmerged = m.logits(b);
                assertTrue(maxAbsDiff(base, unmerged) > 1e-3, arch + ": the branches change the output");
                String before = m.fingerprint();
                m.net().mergeLora();
                m.changedInPlace();
                assertTrue(m.net().loraBranches().isEmpty());
                assertNotEquals(before, m.fingerprint(), "merging changes the weights");
                float[] merged = m.logits(b);
                assertTrue(maxAbsDiff(unmerged, merged) < 1e-4, arch + ": merged = unmerged, diff " + maxAbsDiff(unmerged, merged));
            }
        }
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @Test
    void filesThatDoNotFitAreRefused() throws IOException {
        LetheFormatException e = assertThrows(LetheFormatException.class, () -> ZooModel.load(zoo("cnn-state-dict.safetensors"), null));
        assertTrue(e.getMessage().contains("--arch"), e.getMessage());
        e = assertThrows(LetheFormatException.class, () -> ZooModel.load(zoo("cnn-state-dict.safetensors"), "mlp"));
        assertTrue(e.getMessage().contains("does not fit mlp"), e.getMessage());
        Path partial = dir.resolve("partial.safetensors");
        new SafetensorsWriter().addFloats("conv1.weight", new long[] {16, 1, 3, 3}, new float[144])
                .addFloats("fc1.weight", new long[] {64, 1568}, new float[64 * 1568])
                .addFloats("fc2.weight", new long[] {10, 64}, new float[640]).write(partial);
        e = assertThrows(LetheFormatException.class, () -> ZooModel.load(partial, "cnn"));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Zoo.create("vgg", ZooConfig.defaults(1, 28, 10), 0));
    }

    @Test
    void gradientsFlowToEveryParameter() throws IOException {
        Batch b = fashionBatch(4);
        try (ZooModel m = ZooModel.create("resnet18-cifar", new ZooConfig(1, 28, 10, 4, 32), 2)) {
            float[][] g = m.readParameters();
            m.backward(b, Loss.CROSS_ENTROPY);
            m.gradients(g);
            for (int t = 0; t < g.length; t++) {
                double norm = 0;
                for (float v : g[t]) {
                    norm += v * v;
                }
                assertTrue(norm > 0, m.parameters().get(t).name() + " gets a gradient");
            }
        }
    }
}
