package ai.lethe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import ai.lethe.data.ForgetSet;
import ai.lethe.io.LetheFormatException;
import ai.lethe.method.Method;
import ai.lethe.report.ForgetReport;
import ai.lethe.testing.Fixtures;

/** The whole path on real Fashion-MNIST through the library API. */
class LetheForgetTest {

    @TempDir
    Path dir;

    private static Lethe open() throws IOException {
        return Lethe.load(Fixtures.cnnModel(), "cpu");
    }

    private static ForgetRequest fixtureRequest(Method method) {
        ForgetRequest r = ForgetRequest.of("fashion-mnist", ForgetSet.classes(1)).method(method).batchSize(64).trainLimit(2000);
        return r.settings() instanceof ai.lethe.method.MethodSettings.Ssd s ? r.settings(s.withAlpha(2).withLambda(1)) : r;
    }

    @Test
    void lfssdWithTheFixtureSettingsForgetsTheClassAndKeepsTheRest() throws IOException {
        Fixtures.fashionMnist(2000);
        JsonNode golden = Fixtures.goldenResult("lfssd");
        try (Lethe lethe = open()) {
            ForgetReport r = lethe.forget(fixtureRequest(Method.LFSSD)).report();
            assertEquals(golden.get("selected").asLong(), r.selected());
            assertTrue(r.after().forgetTestAcc() <= 0.01, "forget-test accuracy ~0, got " + r.after().forgetTestAcc());
            assertTrue(r.after().forgetTrainAcc() <= 0.01, "forget-train accuracy ~0, got " + r.after().forgetTrainAcc());
            assertTrue(r.before().retainTestAcc() - r.after().retainTestAcc() <= 0.04,
                    "retain-test within 4 points: " + r.before().retainTestAcc() + " -> " + r.after().retainTestAcc());
            assertEquals(golden.get("retain_test_acc").asDouble(), r.after().retainTestAcc(), 0.005, "as the PyTorch oracle");
            assertEquals(golden.get("retain_train_acc").asDouble(), r.after().retainTrainAcc(), 0.005);
            assertEquals(216, r.forgetSamples());
            assertEquals(1784, r.retainSamples());
            assertEquals(1000, r.after().forgetTest(), "the 1,000 test trousers");
            assertTrue(r.seconds().total() > 0 && r.seconds().update() >= 0);
            assertEquals("label-free", r.estimator());
        }
    }

    @Test
    void dataDecodedOnceOntoTheModelsDeviceGivesTheStreamedResult() throws IOException {
        // On this machine the "device" is the host (--data-on-device on with a CPU model): the same code path as a GPU's.
        ForgetRequest request = ForgetRequest.of("fashion-mnist", ForgetSet.classes(1)).method(Method.NEGGRAD).batchSize(64)
                .trainLimit(600);
        ForgetReport streamed;
        ForgetReport placed;
        String streamedModel;
        try (Lethe lethe = open()) {
            assertEquals(DataOnDevice.AUTO, lethe.dataOnDevice());
            assertFalse(DataOnDevice.AUTO.places(lethe.model(), 1), "auto keeps a CPU model's data streaming");
            assertTrue(DataOnDevice.ON.places(lethe.model(), Long.MAX_VALUE));
            streamed = lethe.forget(request).report();
            streamedModel = lethe.model().fingerprint();
        }
        java.util.List<String> notes = new java.util.ArrayList<>();
        ai.lethe.report.Progress recording = new ai.lethe.report.Progress() {
            public void start(String task, long total, String unit) {
            }

            public void advance(long done) {
            }

            public void finish() {
            }

            @Override
            public void note(String message) {
                notes.add(message);
            }
        };
        try (Lethe lethe = open().dataOnDevice(DataOnDevice.ON).progress(recording)) {
            placed = lethe.forget(request).report();
            assertTrue(notes.stream().anyMatch(n -> n.startsWith("data decoded once onto cpu")), notes.toString());
            assertEquals(streamedModel, lethe.model().fingerprint(), "the same parameters, bit for bit");
        }
        assertEquals(streamed.before(), placed.before());
        assertEquals(streamed.after(), placed.after());
        assertEquals(streamed.selected(), placed.selected());
        assertEquals(streamed.outputFingerprint(), placed.outputFingerprint());
    }

    @Test
    void ssdWithTheFixtureSettingsMatchesTheOraclesAccuracies() throws IOException {
        JsonNode golden = Fixtures.goldenResult("ssd");
        try (Lethe lethe = open()) {
            ForgetReport r = lethe.forget(fixtureRequest(Method.SSD)).report();
            assertEquals(golden.get("selected").asLong(), r.selected());
            for (String k : new String[] {"forget_train_acc", "retain_train_acc", "forget_test_acc", "retain_test_acc"}) {
                double got = switch (k) {
                    case "forget_train_acc" -> r.after().forgetTrainAcc();
                    case "retain_train_acc" -> r.after().retainTrainAcc();
                    case "forget_test_acc" -> r.after().forgetTestAcc();
                    default -> r.after().retainTestAcc();
                };
                assertEquals(golden.get(k).asDouble(), got, 0.005, k);
            }
        }
    }

    @Test
    void aStoredFullImportanceGivesTheSameResultFaster() throws IOException {
        float[][] first;
        ForgetReport r1;
        try (Lethe lethe = open()) {
            r1 = lethe.forget(fixtureRequest(Method.SSD).saveImportances(dir).evaluate(false)).report();
            first = lethe.model().readParameters();
        }
        assertTrue(Files.exists(dir.resolve("importance_full.safetensors")));
        assertTrue(Files.exists(dir.resolve("importance_forget.safetensors")));
        try (Lethe lethe = open()) {
            ForgetReport r2 = lethe.forget(fixtureRequest(Method.SSD).importanceFull(dir.resolve("importance_full.safetensors"))
                    .evaluate(false)).report();
            assertTrue(r2.importanceFullSource().startsWith("loaded from"), r2.importanceFullSource());
            assertEquals(r1.selected(), r2.selected());
            float[][] second = lethe.model().readParameters();
            for (int t = 0; t < first.length; t++) {
                for (int j = 0; j < first[t].length; j++) {
                    assertEquals(first[t][j], second[t][j], 1e-6);
                }
            }
        }
    }

    @Test
    void deepCleanSavesItsRetainImportanceUnderItsOwnName() throws IOException {
        Path out = dir.resolve("deepclean");
        try (Lethe lethe = open()) {
            lethe.forget(fixtureRequest(Method.DEEPCLEAN).set("reset_fraction", 0.001).set("epochs", 0).saveImportances(out).evaluate(false));
        }
        assertTrue(Files.exists(out.resolve("importance_retain.safetensors")), "I_r, over Dr");
        assertTrue(Files.exists(out.resolve("importance_forget.safetensors")));
        assertFalse(Files.exists(out.resolve("importance_full.safetensors")), "I_r is not an importance over all of D");
        assertEquals("retain", ai.lethe.importance.Importance.load(out.resolve("importance_retain.safetensors")).provenance().subset());
    }

    @Test
    void anImportanceOfAnotherModelIsRefusedAndTheModelIsUntouched() throws IOException {
        try (Lethe lethe = open()) {
            lethe.forget(fixtureRequest(Method.SSD).saveImportances(dir).evaluate(false));
            // lethe's model is now the forgotten one: a different fingerprint from the file's
        }
        try (Lethe lethe = open()) {
            float[][] p = lethe.model().readParameters();
            p[7][0] += 1e-3f;
            lethe.model().writeParameters(p);
            String before = lethe.model().fingerprint();
            LetheFormatException e = assertThrows(LetheFormatException.class, () -> lethe.forget(
                    fixtureRequest(Method.SSD).importanceFull(dir.resolve("importance_full.safetensors")).evaluate(false)));
            assertTrue(e.getMessage().contains("another model"), e.getMessage());
            assertEquals(before, lethe.model().fingerprint(), "a refused request changes nothing");
        }
    }

    @Test
    void randomForgettingUsesTheForgetSetAsForgetTest() throws IOException {
        try (Lethe lethe = open()) {
            ForgetReport r = lethe.forget(ForgetRequest.of("fashion-mnist", ForgetSet.random(0.05, 7)).trainLimit(1000)
                    .set("alpha", 10)).report();
            assertEquals(50, r.forgetSamples());
            assertEquals(r.after().forgetTrainAcc(), r.after().forgetTestAcc());
            assertEquals(10_000, r.after().retainTest(), "the whole test set is retain-test");
        }
    }

    @Test
    void alphaAboveEveryRatioIsExplained() throws IOException {
        try (Lethe lethe = open()) {
            String before = lethe.model().fingerprint();
            ForgetReport r = lethe.forget(fixtureRequest(Method.SSD).set("alpha", 1e9).evaluate(false)).report();
            assertEquals(0, r.selected());
            assertTrue(r.notes().stream().anyMatch(n -> n.contains("at or above the largest ratio")), r.notes().toString());
            assertEquals(before, lethe.model().fingerprint(), "nothing selected, nothing changed");
        }
    }
}
