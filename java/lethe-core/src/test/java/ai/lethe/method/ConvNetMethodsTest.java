package ai.lethe.method;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import ai.lethe.ForgetRequest;
import ai.lethe.Lethe;
import ai.lethe.data.DataSource;
import ai.lethe.data.ForgetSet;
import ai.lethe.data.MnemonicCodes;
import ai.lethe.kernels.VectorKernels;
import ai.lethe.model.Loss;
import ai.lethe.model.Model;
import ai.lethe.model.zoo.ZooConfig;
import ai.lethe.model.zoo.ZooModel;
import ai.lethe.report.ForgetReport;
import ai.lethe.testing.Fixtures;
import ai.lethe.train.Schedule;
import ai.lethe.train.Trainer;

/**
 * The methods that failed on convolutional networks (issue 16), on the zoo {@code cnn} trained here with mnemonic
 * codes on the first 6,000 Fashion-MNIST images (a few seconds), forgetting class 4 (Coat).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConvNetMethodsTest {

    static final int TRAIN = 6000;
    /**
     * Seed of the model and its codes. How far a method gets on one class of a small net varies a lot from one
     * trained model to the next (seeds 1-6 of the same recipe: the paper's lambda1 leaves 0-39% of Coats recognised,
     * unclipped RFA costs 0-5 points): these tests show each behaviour on one model where it happens, seed 6.
     */
    static final long SEED = 6;

    @TempDir
    static Path dir;

    Path model;

    @BeforeAll
    void trainTheModel() throws IOException {
        DataSource data = Fixtures.fashionMnist(TRAIN);
        model = dir.resolve("cnn.safetensors");
        try (VectorKernels k = new VectorKernels(); ZooModel m = ZooModel.create("cnn", new ZooConfig(1, 28, 10, 64, 1000), SEED)) {
            MnemonicCodes codes = MnemonicCodes.draw(10, new int[] {1, 28, 28}, SEED, "uniform", 0.3);
            codes.toMetadata().forEach(m::putMetadata);
            new Trainer(k, null).train(m, data.train(), data.train().labels(), null,
                    new Trainer.Settings(4, 128, 0.05f, 0.9f, 5e-4f, Schedule.COSINE, 0), codes, null, null);
            m.save(model);
        }
    }

    private ForgetReport forget(ForgetRequest r) throws IOException {
        try (Lethe lethe = Lethe.load(model, "cpu")) {
            return lethe.forget(r.trainLimit(TRAIN)).report();
        }
    }

    /** Forget-test accuracy at most {@code maxForgetAcc}, retain-test accuracy down by at most {@code maxRetainDrop}. */
    private static void assertForgotWithinBudget(ForgetReport r, double maxForgetAcc, double maxRetainDrop) {
        assertTrue(r.after().forgetTestAcc() <= maxForgetAcc, "forget-test " + r.before().forgetTestAcc() + " -> " + r.after().forgetTestAcc());
        assertTrue(r.before().retainTestAcc() - r.after().retainTestAcc() <= maxRetainDrop,
                "retain-test " + r.before().retainTestAcc() + " -> " + r.after().retainTestAcc());
    }

    private static ForgetRequest request(Method m, int forgetClass) {
        return ForgetRequest.of("fashion-mnist", ForgetSet.classes(forgetClass)).method(m);
    }

    @Test
    void mnemonicWithThePapersLambda1UnderForgetsAndSaysSo() throws IOException {
        // The reference code's update (unreached weights shifted too): the codes are still recognised, and the note says so.
        ForgetReport r = forget(request(Method.MNEMONIC, 4).set("unreached", "shift"));
        assertTrue(r.before().forgetTestAcc() > 0.6, "the class was learnt: " + r.before().forgetTestAcc());
        assertTrue(r.after().forgetTestAcc() > 0.15, "lambda1 1e-3 is a small step on this net: " + r.after().forgetTestAcc());
        assertTrue(r.notes().stream().anyMatch(n -> n.contains("--lambda1 auto")), "the note points to the search: " + r.notes());
        // Keeping the unreached weights forgets more at the same step, but not yet down to a 5% target.
        ForgetReport kept = forget(request(Method.MNEMONIC, 4));
        assertTrue(kept.after().forgetTestAcc() < r.after().forgetTestAcc() && kept.after().forgetTestAcc() > 0.05,
                "kept: forget-test " + kept.after().forgetTestAcc() + ", shifted " + r.after().forgetTestAcc());
    }

    @Test
    void mnemonicWithLambda1AutoForgetsTheClass() throws IOException {
        ForgetReport r = forget(request(Method.MNEMONIC, 4).set("lambda1", "auto"));
        assertForgotWithinBudget(r, 0.05, 0.03);
        LambdaSearch search = (LambdaSearch) r.details().get("lambda1_search");
        assertTrue(search.chosenLambda1() > 1e-3f, "a larger step than the paper's: " + search.chosenLambda1());
        assertEquals(MethodSettings.Mnemonic.DEFAULT_TARGET, search.targetForgetAcc());
        LambdaSearch.Point chosen = search.curve().stream().filter(p -> p.lambda1() == search.chosenLambda1()).findFirst().orElseThrow();
        assertTrue(chosen.forgetAcc() <= search.targetForgetAcc(), "the chosen lambda1 reached the target: " + chosen);
        for (LambdaSearch.Point p : search.curve()) {
            // every smaller lambda1 that kept the retain budget left the held-out forget set above the target
            if (p.lambda1() < search.chosenLambda1() && search.retainAccBefore() - p.retainAcc() <= search.maxRetainDrop()) {
                assertTrue(p.forgetAcc() > search.targetForgetAcc(), "a smaller lambda1 reached it: " + p);
            }
        }
        assertEquals("auto", r.settings().get("lambda1"));
    }

    @Test
    void mnemonicLeavesTheWeightsNoRetainedCodeReaches() throws IOException {
        float[][] original;
        boolean[][] unreached;
        long unreachedCount = 0;
        try (Lethe lethe = Lethe.load(model, "cpu")) {
            Model m = lethe.model();
            MnemonicCodes codes = MnemonicCodes.of(m, model);
            original = m.readParameters();
            float[][] g = m.readParameters();
            unreached = new boolean[g.length][];
            for (int t = 0; t < g.length; t++) {
                unreached[t] = new boolean[g[t].length];
                java.util.Arrays.fill(unreached[t], true);
            }
            for (int c = 0; c < codes.classes(); c++) {
                if (c != 1) {
                    m.backward(codes.batch(c), Loss.CROSS_ENTROPY);
                    m.gradients(g);
                    for (int t = 0; t < g.length; t++) {
                        for (int j = 0; j < g[t].length; j++) {
                            unreached[t][j] &= g[t][j] == 0f;
                        }
                    }
                }
            }
            for (boolean[] u : unreached) {
                for (boolean b : u) {
                    unreachedCount += b ? 1 : 0;
                }
            }
        }
        assertTrue(unreachedCount > 0, "a ReLU network has weights that no retained class's code reaches");
        double[] movedMost = new double[2];
        for (String mode : new String[] {"keep", "shift"}) {
            try (Lethe lethe = Lethe.load(model, "cpu")) {
                ForgetReport r = lethe.forget(request(Method.MNEMONIC, 1).trainLimit(TRAIN).evaluate(false).set("lambda1", 0.01)
                        .set("unreached", mode)).report();
                float[][] after = lethe.model().readParameters();
                double most = 0;
                for (int t = 0; t < after.length; t++) {
                    for (int j = 0; j < after[t].length; j++) {
                        if (unreached[t][j]) {
                            most = Math.max(most, Math.abs(after[t][j] - original[t][j]));
                        }
                    }
                }
                movedMost[mode.equals("keep") ? 0 : 1] = most;
                String counted = mode.equals("keep") ? "unreached_kept" : "unreached_shifted";
                assertTrue(((Number) r.details().get(counted)).longValue() >= unreachedCount, counted + " " + r.details());
            }
        }
        assertTrue(movedMost[0] < 1e-9, "kept: unreached weights moved by at most " + movedMost[0]);
        assertTrue(movedMost[1] > 1e-2, "the reference's update moves them by up to lambda2: " + movedMost[1]);
    }

    @Test
    void mnemonicWithLambda1AutoForgetsSneakersWhereTheReferenceUpdateBreaksTheRetainBudget() throws IOException {
        ForgetReport r = forget(request(Method.MNEMONIC, 7).set("lambda1", "auto"));
        assertForgotWithinBudget(r, 0.05, 0.03);
        ForgetReport shifted = forget(request(Method.MNEMONIC, 7).set("lambda1", "auto").set("unreached", "shift"));
        // The reference's update moves the weights no retained code reaches by up to lambda2: the retain budget stops
        // the search before the class is forgotten.
        assertTrue(shifted.after().forgetTestAcc() > 0.05, // issue 16's target, which the kept update meets above
                "shifted: forget-test " + shifted.after().forgetTestAcc());
        assertTrue(shifted.notes().stream().anyMatch(n -> n.startsWith("--lambda1 auto: no lambda1 reached")
                && n.contains("--mnemonic-scope head")), shifted.notes().toString());
    }

    @Test
    void mnemonicWithScopeHeadMovesOnlyTheLastLayer() throws IOException {
        try (Lethe lethe = Lethe.load(model, "cpu")) {
            float[][] original = lethe.model().readParameters();
            ForgetReport r = lethe.forget(request(Method.MNEMONIC, 4).trainLimit(TRAIN).set("lambda1", 0.1).set("scope", "head"))
                    .report();
            assertEquals(List.of("fc2.weight", "fc2.bias"), r.details().get("head"));
            float[][] after = lethe.model().readParameters();
            var params = lethe.model().parameters();
            for (int t = 0; t < after.length; t++) {
                double moved = 0;
                for (int j = 0; j < after[t].length; j++) {
                    moved = Math.max(moved, Math.abs(after[t][j] - original[t][j]));
                }
                if (params.get(t).name().startsWith("fc2.")) {
                    assertTrue(moved > 1e-3, params.get(t).name() + " moved by " + moved);
                } else {
                    assertTrue(moved < 1e-9, params.get(t).name() + " is outside the head but moved by " + moved);
                }
            }
            assertTrue(r.after().forgetTestAcc() < r.before().forgetTestAcc() - 0.2,
                    "the head alone forgets: forget-test " + r.before().forgetTestAcc() + " -> " + r.after().forgetTestAcc());
        }
    }

    @Test
    void rfaClipsItsGradientAndForgetsWhereTheUnclippedRunCollapses() throws IOException {
        ForgetReport r = forget(request(Method.RFA, 7));
        assertForgotWithinBudget(r, 0.10, 0.03);
        assertTrue(((Number) r.details().get("clipped_steps")).intValue() > 0, "the clipping was needed: " + r.details());
        assertEquals(1.0, r.settings().get("max_grad_norm"));
        // Unclipped, the same run collapses the model (or turns NaN, and the divergence check refuses it).
        try {
            ForgetReport u = forget(request(Method.RFA, 7).set("max_grad_norm", 0));
            assertTrue(u.before().retainTestAcc() - u.after().retainTestAcc() > 0.10,
                    "unclipped retain-test " + u.before().retainTestAcc() + " -> " + u.after().retainTestAcc());
        } catch (IllegalStateException | ai.lethe.model.ModelException diverged) {
            assertTrue(diverged.getMessage().startsWith("rfa diverged"), diverged.getMessage());
        }
    }

    @Test
    void negGradForgetsWithinTheRetainBudgetWhereTheUnguardedAscentCollapses() throws IOException {
        ForgetRequest guarded = request(Method.NEGGRAD, 7).set("epochs", 3);
        ForgetReport r = forget(guarded);
        assertForgotWithinBudget(r, 0.10, 0.05);
        assertTrue(((Number) r.details().get("ascent_steps")).intValue() < ((Number) r.details().get("steps")).intValue(),
                "the ceiling stopped the ascent once the class was forgotten: " + r.details());
        // The same run without the safeguards: the ascent runs away (a collapse, or NaN and a rollback).
        ForgetRequest unguarded = request(Method.NEGGRAD, 7).set("epochs", 3).set("max_grad_norm", 0).set("forget_loss_ceiling", 0)
                .set("max_retain_loss_increase", 0);
        try {
            ForgetReport u = forget(unguarded);
            assertTrue(u.before().retainTestAcc() - u.after().retainTestAcc() > 0.05,
                    "unguarded retain-test " + u.before().retainTestAcc() + " -> " + u.after().retainTestAcc());
        } catch (ai.lethe.model.ModelException diverged) {
            assertTrue(diverged.getMessage().startsWith("neggrad diverged"), diverged.getMessage());
        }
    }
}
