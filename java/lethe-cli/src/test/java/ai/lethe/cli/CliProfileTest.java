package ai.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.lethe.model.Model;
import ai.lethe.model.TorchScriptModel;

/** 'lethe profile' on real Fashion-MNIST: every output, and the phases and kernels an SSD run goes through. */
class CliProfileTest {

    @TempDir
    Path dir;

    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void profilesAnSsdRunIntoTablesJsonTraceAndHtml() throws Exception {
        Path prof = dir.resolve("prof");
        Path out = dir.resolve("forgotten.pt");
        CliRunner.Result r = CliRunner.run("profile", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--train-limit", "1000", "--forget-class", "1", "--method", "ssd", "--profile-dir", prof.toString(),
                "--out", out.toString(), "-q");
        assertEquals(0, r.code(), r.toString());
        for (String s : new String[] {"phase", "forward", "backward", "accumulate", "update", "evaluate", "read/decode",
                                      "accumulate_square", "ssd_dampen", "fc1.weight"}) {
            assertTrue(r.out().contains(s), "table shows " + s + ":\n" + r.out());
        }

        JsonNode p = JSON.readTree(prof.resolve("profile.json").toFile());
        Set<String> phases = new HashSet<>();
        Map<String, Long> phaseCalls = new HashMap<>();
        for (JsonNode ph : p.get("phases")) {
            phases.add(ph.get("name").asText());
            phaseCalls.merge(ph.get("name").asText(), ph.get("calls").asLong(), Long::sum);
            assertTrue(ph.get("exclusive_ms").asDouble() <= ph.get("total_ms").asDouble() + 1e-9, ph.toString());
            assertTrue(ph.get("share").asDouble() >= 0 && ph.get("share").asDouble() <= 1, ph.toString());
        }
        assertTrue(phases.containsAll(Set.of("read/decode", "forward", "backward", "accumulate", "update", "evaluate",
                "evaluate/forward")), phases.toString());
        Map<String, JsonNode> kernels = new HashMap<>();
        p.get("kernels").forEach(k -> kernels.put(k.get("name").asText(), k));
        // 1000 samples in batches of 64: 16 batches over D; Df (class 1) is about a tenth of it, 2 batches at least
        long batches = kernels.get("accumulate_square").get("calls").asLong();
        assertTrue(batches >= 18 && batches <= 20, "one accumulate per batch of D and Df: " + batches);
        assertEquals(batches, phaseCalls.get("forward"), "the unlearning's forwards, one per batch; evaluation's are apart");
        assertEquals(1, kernels.get("ssd_dampen").get("calls").asLong());
        assertTrue(kernels.get("accumulate_square").get("gbps").asDouble() > 0);
        assertTrue(kernels.get("accumulate_square").get("copy_gbps").asDouble() > 0);
        assertEquals(8, p.get("tensors").size(), "one row per parameter tensor of the CNN");
        long selectedTotal = 0;
        for (JsonNode t : p.get("tensors")) {
            assertTrue(t.get("importance_full_max").asDouble() >= t.get("importance_full_mean").asDouble());
            assertEquals(0.0, t.get("fraction_non_finite").asDouble());
            selectedTotal += Math.round(t.get("fraction_selected").asDouble() * t.get("numel").asLong());
        }
        assertEquals(p.get("forget").get("selected").asLong(), selectedTotal, "per-tensor selections add up to the report's");
        long histogram = 0;
        for (JsonNode c : p.get("ratio_histogram").get("counts")) {
            histogram += c.asLong();
        }
        assertTrue(histogram > 100_000 * 0.5, "most of the 105,866 parameters have both importances positive: " + histogram);

        JsonNode trace = JSON.readTree(prof.resolve("trace.json").toFile());
        Map<Long, String> threadNames = new HashMap<>();
        Set<Long> tracksWithEvents = new HashSet<>();
        for (JsonNode e : trace.get("traceEvents")) {
            if (e.get("ph").asText().equals("M")) {
                threadNames.put(e.get("tid").asLong(), e.get("args").get("name").asText());
            } else {
                assertEquals("X", e.get("ph").asText());
                assertTrue(e.get("ts").asDouble() >= 0 && e.get("dur").asDouble() >= 0, e.toString());
                tracksWithEvents.add(e.get("tid").asLong());
            }
        }
        assertTrue(threadNames.keySet().containsAll(tracksWithEvents), "every track is named");
        double lastEndMicros = 0;
        for (JsonNode e : trace.get("traceEvents")) {
            if (e.get("ph").asText().equals("X")) {
                lastEndMicros = Math.max(lastEndMicros, e.get("ts").asDouble() + e.get("dur").asDouble());
            }
        }
        double wallMicros = p.get("wall_ms").asDouble() * 1000;
        assertTrue(lastEndMicros <= wallMicros * 1.001 && lastEndMicros > wallMicros * 0.5,
                "trace times are microseconds from the recording's start: last end " + lastEndMicros + " of " + wallMicros);
        assertTrue(threadNames.containsValue("lethe-prefetch"), threadNames.toString());
        assertTrue(threadNames.containsValue("lethe-prefetch-eval"), "the evaluation's reads are a track of their own: " + threadNames);
        assertTrue(tracksWithEvents.size() >= 2, "the prefetch thread has its own track");

        String html = Files.readString(prof.resolve("profile.html"));
        for (String png : new String[] {"phases.png", "layers.png", "ratios.png"}) {
            assertTrue(html.contains(png), png);
            BufferedImage img = ImageIO.read(prof.resolve(png).toFile());
            assertNotNull(img, png + " is a PNG");
            assertTrue(img.getWidth() > 100 && img.getHeight() > 100);
        }
        try (Model m = TorchScriptModel.load(out)) {
            assertEquals(p.get("forget").get("output_fingerprint").asText(), m.fingerprint(), "--out writes the profiled run's model");
        }
    }

    @Test
    void jsonOutputIsProfileJson() throws Exception {
        Path prof = dir.resolve("p");
        CliRunner.Result r = CliRunner.run("profile", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--train-limit", "300", "--forget-class", "2", "--method", "lfssd", "--no-eval", "--profile-dir", prof.toString(),
                "--json", "-q");
        assertEquals(0, r.code(), r.toString());
        JsonNode j = JSON.readTree(r.out());
        assertEquals(JSON.readTree(prof.resolve("profile.json").toFile()), j);
        assertTrue(j.get("kernels").toString().contains("accumulate_abs"), "LFSSD accumulates |g|");
        assertFalse(j.get("phases").toString().contains("\"evaluate\""), "--no-eval: no evaluate phase");
    }

    @Test
    void takesEveryOptionOfForget() {
        picocli.CommandLine main = Main.commandLine();
        java.util.Set<String> forget = main.getSubcommands().get("forget").getCommandSpec().optionsMap().keySet();
        java.util.Set<String> profile = main.getSubcommands().get("profile").getCommandSpec().optionsMap().keySet();
        java.util.Set<String> missing = new java.util.TreeSet<>(forget);
        missing.removeAll(profile);
        assertTrue(missing.isEmpty(), "profile lacks " + missing);
    }

    @Test
    void refusesBadTargetsBeforeWorking() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        CliRunner.Result r = CliRunner.run("profile", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--forget-class", "1", "--profile-dir", file.toString());
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("exists and is not a directory"), r.err());
        CliRunner.Result none = CliRunner.run("profile", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--profile-dir", dir.resolve("q").toString());
        assertEquals(2, none.code(), none.toString());
        assertTrue(none.err().contains("say what to forget"), none.err());
        assertFalse(Files.exists(dir.resolve("q")), "nothing written on a refused request");
        CliRunner.Result help = CliRunner.run("profile", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("--alpha") && help.out().contains("--profile-dir") && help.out().contains("chrome://tracing"),
                "profile takes forget's options: " + help.out());
    }
}
