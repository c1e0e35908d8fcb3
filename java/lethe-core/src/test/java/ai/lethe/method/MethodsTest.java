package ai.lethe.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import ai.lethe.ForgetRequest;
import ai.lethe.Lethe;
import ai.lethe.data.DataSource;
import ai.lethe.data.ForgetSet;
import ai.lethe.data.MnemonicCodes;
import ai.lethe.io.LetheFormatException;
import ai.lethe.kernels.VectorKernels;
import ai.lethe.model.zoo.ZooConfig;
import ai.lethe.model.zoo.ZooModel;
import ai.lethe.report.ForgetReport;
import ai.lethe.testing.Fixtures;
import ai.lethe.train.Schedule;
import ai.lethe.train.Trainer;

/**
 * Every method end to end on real Fashion-MNIST (the first 6,000 training images, forget class 1), from one
 * MLP trained here with mnemonic codes (the Mnemonic-code paper's architecture), through the library API.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MethodsTest {

    static final int TRAIN = 6000;

    @TempDir
    static Path dir;

    Path model;
    float[][] original;

    @BeforeAll
    void trainTheModel() throws IOException {
        DataSource data = Fixtures.fashionMnist(TRAIN);
        model = dir.resolve("mlp.safetensors");
        try (VectorKernels k = new VectorKernels(); ZooModel m = ZooModel.create("mlp", new ZooConfig(1, 28, 10, 64, 1000), 0)) {
            MnemonicCodes codes = MnemonicCodes.draw(10, new int[] {1, 28, 28}, 0, "uniform", 0.1);
            codes.toMetadata().forEach(m::putMetadata);
            new Trainer(k, null).train(m, data.train(), data.train().labels(), null,
                    new Trainer.Settings(4, 128, 0.1f, 0.9f, 5e-4f, Schedule.COSINE, 0), codes, null, null);
            m.save(model);
            original = m.readParameters();
        }
    }

    private ForgetReport forget(ForgetRequest r) throws IOException {
        try (Lethe lethe = Lethe.load(model, "cpu")) {
            return lethe.forget(r.trainLimit(TRAIN)).report();
        }
    }

    private static ForgetRequest request(ai.lethe.method.Method m) {
        return ForgetRequest.of("fashion-mnist", ForgetSet.classes(1)).method(m);
    }

    private static void assertForgotten(ForgetReport r, double maxForgetAcc, double maxRetainDrop) {
        assertTrue(r.after().forgetTestAcc() <= maxForgetAcc, r.method() + ": forget-test accuracy " + r.before().forgetTestAcc()
                + " -> " + r.after().forgetTestAcc() + ", wanted <= " + maxForgetAcc);
        assertTrue(r.before().retainTestAcc() - r.after().retainTestAcc() <= maxRetainDrop, r.method() + ": retain-test accuracy "
                + r.before().retainTestAcc() + " -> " + r.after().retainTestAcc());
    }

    @Test
    void mnemonicForgetsTheClassInOneShot() throws IOException {
        ForgetReport r = forget(request(Method.MNEMONIC));
        assertTrue(r.before().forgetTestAcc() > 0.8, "the class was learnt: " + r.before().forgetTestAcc());
        assertForgotten(r, 0.05, 0.03);
        assertEquals(r.params(), r.selected(), "the one-shot update moves every parameter");
        assertTrue(Map.of("+", 1, "-", 1).containsKey(r.details().get("sign")));
        assertTrue(((Number) r.details().get("alpha_max")).floatValue() <= 1e-3f, "alpha_l <= lambda1");
    }

    @Test
    void mnemonicRefusesAModelWithoutCodes() throws IOException {
        Path bare = dir.resolve("bare.safetensors");
        try (ZooModel m = ZooModel.create("mlp", new ZooConfig(1, 28, 10, 64, 32), 0)) {
            m.save(bare);
        }
        try (Lethe lethe = Lethe.load(bare, "cpu")) {
            LetheFormatException e = assertThrows(LetheFormatException.class,
                    () -> lethe.forget(request(Method.MNEMONIC).trainLimit(500).evaluate(false)));
            assertTrue(e.getMessage().contains("no mnemonic codes"), e.getMessage());
        }
        try (Lethe lethe = Lethe.load(model, "cpu")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> lethe.forget(
                    ForgetRequest.of("fashion-mnist", ForgetSet.random(0.1, 1)).method(Method.MNEMONIC).trainLimit(500).evaluate(false)));
            assertTrue(e.getMessage().contains("whole classes"), e.getMessage());
        }
    }

    @Test
    void deepCleanResetsTheTopFractionAndFineTunesOnlyIt() throws IOException {
        ForgetReport r = forget(request(Method.DEEPCLEAN).set("reset_fraction", 0.01));
        assertForgotten(r, 0.05, 0.03);
        long expected = Math.round(0.01 * r.params());
        assertTrue(r.selected() >= expected && r.selected() < expected + 50, "about 1% reset: " + r.selected());
        try (Lethe lethe = Lethe.load(model, "cpu")) {
            lethe.forget(request(Method.DEEPCLEAN).set("reset_fraction", 0.01).trainLimit(TRAIN).evaluate(false));
            float[][] after = lethe.model().readParameters();
            long moved = 0;
            for (int t = 0; t < after.length; t++) {
                for (int j = 0; j < after[t].length; j++) {
                    moved += after[t][j] != original[t][j] ? 1 : 0;
                }
            }
            assertTrue(moved <= r.selected(), "only the reset weights change (" + moved + " moved, " + r.selected() + " reset)");
        }
    }

    @Test
    void rfaShiftsTheForgottenFeaturesAndMergesItsBranches() throws IOException {
        ForgetReport r = forget(request(Method.RFA));
        assertForgotten(r, 0.10, 0.05);
        assertEquals(List.of("fc1", "fc2"), r.details().get("layers"));
        try (Lethe lethe = Lethe.load(model, "cpu")) {
            lethe.forget(request(Method.RFA).trainLimit(2000).set("epochs", 1).evaluate(false));
            assertTrue(((ZooModel) lethe.model()).net().loraBranches().isEmpty(), "merged into plain weights");
            Path saved = dir.resolve("rfa.safetensors");
            lethe.save(saved);
            try (ZooModel back = ZooModel.load(saved, null)) {
                assertEquals(lethe.model().parameters(), back.parameters(), "a plain model of the same architecture");
            }
        }
    }

    @Test
    void finetuneAndNegGradAreWeakerBaselines() throws IOException {
        ForgetReport ft = forget(request(Method.FINETUNE));
        assertTrue(ft.after().forgetTestAcc() < ft.before().forgetTestAcc(), "fine-tuning on Dr erodes Df");
        assertTrue(ft.before().retainTestAcc() - ft.after().retainTestAcc() <= 0.03);
        ForgetReport ng = forget(request(Method.NEGGRAD));
        assertTrue(ng.after().forgetTestAcc() < ng.before().forgetTestAcc(), "ascent on Df lowers its accuracy");
        assertTrue(ng.before().retainTestAcc() - ng.after().retainTestAcc() <= 0.05);
    }

    @Test
    void aMethodThatDivergesLeavesTheModelAsItWasAndSaysSo() throws IOException {
        try (Lethe lethe = Lethe.load(model, "cpu")) {
            String before = lethe.model().fingerprint();
            ai.lethe.model.ModelException e = assertThrows(ai.lethe.model.ModelException.class,
                    () -> lethe.forget(request(Method.NEGGRAD).trainLimit(1000).evaluate(false).set("lr", 1e30).set("epochs", 3)
                            .set("max_grad_norm", 0).set("forget_loss_ceiling", 0).set("max_retain_loss_increase", 0)));
            assertTrue(e.getMessage().startsWith("neggrad diverged") && e.getMessage().contains("NaN/Inf"), e.getMessage());
            assertEquals(before, lethe.model().fingerprint(), "no half-forgotten, non-finite model is left behind");
        }
    }

    @Test
    void retrainReinitialisesEveryLayerAndNeverSeesTheForgetSet() throws IOException {
        try (Lethe lethe = Lethe.load(model, "cpu")) {
            ForgetReport r = lethe.forget(request(Method.RETRAIN).trainLimit(TRAIN).set("epochs", 3)).report();
            assertForgotten(r, 0.02, 0.05);
            float[][] after = lethe.model().readParameters();
            for (int t = 0; t < after.length; t++) {
                long same = 0;
                for (int j = 0; j < after[t].length; j++) {
                    same += Math.abs(after[t][j] - original[t][j]) < 1e-6 ? 1 : 0;
                }
                assertTrue(same < 0.01 * after[t].length, lethe.model().parameters().get(t).name() + ": " + same + " of "
                        + after[t].length + " values unchanged, so it was not re-initialised");
            }
        }
    }

    @Test
    void retrainAndRfaNeedAZooModel() throws IOException {
        try (Lethe lethe = Lethe.load(Fixtures.cnnModel(), "cpu")) {
            for (Method m : new Method[] {Method.RETRAIN, Method.RFA}) {
                String before = lethe.model().fingerprint();
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> lethe.forget(request(m).trainLimit(500).evaluate(false)));
                assertTrue(e.getMessage().contains("zoo model"), e.getMessage());
                assertEquals(before, lethe.model().fingerprint());
            }
        }
    }

    @Test
    void alphaAutoFindsTheSmallestChangeThatForgets() throws IOException {
        try (Lethe lethe = Lethe.load(Fixtures.cnnModel(), "cpu")) {
            ForgetReport r = lethe.forget(request(Method.LFSSD).set("alpha", "auto").trainLimit(3000).evaluate(true)).report();
            AlphaSearch search = (AlphaSearch) r.details().get("alpha_search");
            assertEquals(0.1, search.targetForgetAcc(), 1e-12, "chance level for 10 classes");
            List<?> curve = search.curve();
            assertTrue(!curve.isEmpty());
            double chosen = search.chosenAlpha();
            assertEquals(chosen, r.alpha(), 1e-6, "the report's alpha is the chosen one");
            assertTrue(r.notes().isEmpty(), "LFSSD reaches chance level on this model: " + r.notes());
            double retainBefore = search.retainAccBefore();
            AlphaSearch.Point best = curve.stream().map(o -> (AlphaSearch.Point) o).filter(p -> p.alpha() == (float) chosen).findFirst().orElseThrow();
            assertTrue(best.forgetAcc() <= 0.1, "held-out forget accuracy " + best.forgetAcc());
            assertTrue(retainBefore - best.retainAcc() <= 0.02 + 1e-9, "within the retain budget");
            for (Object o : curve) {
                AlphaSearch.Point p = (AlphaSearch.Point) o;
                boolean good = p.forgetAcc() <= 0.1 && retainBefore - p.retainAcc() <= 0.02 + 1e-9;
                assertTrue(!good || p.alpha() <= chosen, "no larger alpha that also met the target was passed over: " + p);
            }
            assertTrue(r.after().forgetTestAcc() <= 0.1 + 0.05, "and the test set agrees with the target (0.1): " + r.after().forgetTestAcc());
        }
    }

    @Test
    void mnemonicCodesAreReproducibleFromTheSeed() throws IOException {
        MnemonicCodes a = MnemonicCodes.draw(10, new int[] {1, 28, 28}, 7, "uniform", 0.1);
        MnemonicCodes b = MnemonicCodes.draw(10, new int[] {1, 28, 28}, 7, "uniform", 0.1);
        MnemonicCodes c = MnemonicCodes.draw(10, new int[] {1, 28, 28}, 8, "uniform", 0.1);
        MnemonicCodes n = MnemonicCodes.draw(10, new int[] {1, 28, 28}, 7, "normal", 0.1);
        for (int k = 0; k < 10; k++) {
            assertArrayEquals(a.code(k), b.code(k));
            assertNotEquals(a.code(k)[0], c.code(k)[0]);
            for (float v : a.code(k)) {
                assertTrue(v >= 0 && v < 1, "uniform U[0,1)");
            }
        }
        assertTrue(java.util.stream.IntStream.range(0, 784).anyMatch(i -> n.code(0)[i] < 0), "normal codes take negative values");
        MnemonicCodes fromMeta = MnemonicCodes.fromMetadata(a.toMetadata());
        Path f = dir.resolve("codes.safetensors");
        a.save(f);
        MnemonicCodes fromFile = MnemonicCodes.load(f);
        for (int k = 0; k < 10; k++) {
            assertArrayEquals(a.code(k), fromMeta.code(k));
            assertArrayEquals(a.code(k), fromFile.code(k));
        }
        assertEquals(7, fromFile.seed());
        assertTrue(Files.exists(f));
    }
}
