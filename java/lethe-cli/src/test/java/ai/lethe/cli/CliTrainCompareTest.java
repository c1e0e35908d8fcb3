package ai.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.lethe.data.MnemonicCodes;
import ai.lethe.model.Weights;
import ai.lethe.model.TorchScriptModel;
import ai.lethe.model.zoo.ZooModel;

/** lethe train, lethe compare, the zoo on the command line, and the new methods' option checks. */
class CliTrainCompareTest {

    @TempDir
    Path dir;

    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void trainWritesAModelWithItsCodes() throws Exception {
        Path out = dir.resolve("mlp.safetensors");
        CliRunner.Result r = CliRunner.run("train", "--arch", "mlp", "--hidden", "32", "--data", "fashion-mnist", "--train-limit",
                "1000", "--epochs", "2", "--lr", "0.1", "--mnemonic-codes", "--out", out.toString(), "--json", "-q");
        assertEquals(0, r.code(), r.toString());
        JsonNode j = JSON.readTree(r.out());
        assertEquals(2, j.get("epochs").size());
        assertTrue(j.get("test_acc").asDouble() > 0.3, j.toString());
        assertTrue(Files.exists(MnemonicCodes.besideModel(out)), "codes beside the model");
        try (ZooModel m = ZooModel.load(out, null)) {
            assertEquals("mlp", m.net().arch());
            assertNotNull(MnemonicCodes.fromMetadata(m.metadata()), "codes in the metadata");
            assertEquals("2", m.metadata().get("lethe.epochs_done"));
        }
        CliRunner.Result f = CliRunner.run("forget", "--model", out.toString(), "--data", "fashion-mnist", "--train-limit", "1000",
                "--forget-class", "1", "--method", "mnemonic", "--out", dir.resolve("forgotten.safetensors").toString(), "--json", "-q");
        assertEquals(0, f.code(), f.toString());
        assertEquals("mnemonic", JSON.readTree(f.out()).get("method").asText());
        CliRunner.Result pt = CliRunner.run("forget", "--model", out.toString(), "--data", "fashion-mnist", "--train-limit", "1000",
                "--forget-class", "1", "--method", "mnemonic", "--out", dir.resolve("forgotten.pt").toString(), "--no-eval", "-q");
        assertEquals(2, pt.code(), "a zoo model is not written as TorchScript, and that is known before any work: " + pt);
        assertTrue(pt.err().contains(".safetensors suffix"), pt.err());
        assertFalse(pt.err().contains("importance"), "refused before the importance passes: " + pt.err());
        CliRunner.Result imp = CliRunner.run("fisher", "--model", out.toString(), "--data", "fashion-mnist", "--train-limit", "200",
                "--subset", "full", "--out", dir.resolve("imp.safetensors").toString(), "-q");
        assertEquals(0, imp.code(), imp.toString());
        CliRunner.Result asModel = CliRunner.run("eval", "--model", dir.resolve("imp.safetensors").toString(), "--arch", "mlp",
                "--data", "fashion-mnist", "--train-limit", "200", "--forget-class", "1", "-q");
        assertEquals(1, asModel.code(), asModel.toString());
        assertTrue(asModel.err().contains("holds importances"), asModel.err());
    }

    @Test
    void trainRejectsBadSettings() {
        assertEquals(2, CliRunner.run("train", "--arch", "vgg", "--data", "fashion-mnist", "--out", dir.resolve("x.safetensors").toString()).code());
        assertEquals(2, CliRunner.run("train", "--arch", "mlp", "--epochs", "0", "--data", "fashion-mnist", "--out",
                dir.resolve("x.safetensors").toString()).code());
        assertEquals(2, CliRunner.run("train", "--arch", "mlp", "--schedule", "wavy", "--data", "fashion-mnist", "--out",
                dir.resolve("x.safetensors").toString()).code());
        assertEquals(2, CliRunner.run("train", "--arch", "mlp", "--data", "fashion-mnist", "--out", dir.toString()).code());
    }

    @Test
    void compareWritesTheTableThePageAndTheChart() throws Exception {
        Path report = dir.resolve("cmp");
        CliRunner.Result r = CliRunner.run("compare", "--data", "fashion-mnist", "--train-limit", "800", "--arch", "mlp", "--epochs", "1",
                "--forget-class", "1", "--methods", "ssd,mnemonic,retrain", "--report", report.toString(), "-q");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("| method | forget-train |"), r.out());
        for (String f : new String[] {"compare.json", "compare.md", "compare.html", "compare.png", "base.safetensors",
                "retrain.safetensors", "ssd.safetensors", "mnemonic.safetensors"}) {
            assertTrue(Files.exists(report.resolve(f)), f);
        }
        JsonNode j = JSON.readTree(report.resolve("compare.json").toFile());
        List<String> methods = new ArrayList<>();
        j.get("rows").forEach(row -> methods.add(row.get("method").asText()));
        assertEquals(List.of("original", "retrain", "ssd", "mnemonic"), methods, "retrain first: it is the reference");
        assertNotNull(ImageIO.read(report.resolve("compare.png").toFile()), "a readable PNG");
        assertTrue(Files.readString(report.resolve("compare.html")).contains("<img src=\"compare.png\""));
        assertTrue(j.get("reports").get(1).get("details").get("alpha_search").get("target_source").asText().startsWith("reference model"),
                "SSD's alpha search aims at the retrained model");
    }

    @Test
    void aMethodThatCannotRunIsReportedNotFatal() throws Exception {
        Path report = dir.resolve("cmp");
        CliRunner.Result r = CliRunner.run("compare", "--model", CliRunner.model().toString(), "--data", "fashion-mnist",
                "--train-limit", "600", "--forget-class", "1", "--methods", "lfssd,retrain", "--alpha", "2", "--report", report.toString(), "-q");
        assertEquals(1, r.code(), "retrain cannot run on TorchScript: " + r);
        assertTrue(r.out().contains("retrain: did not run") && r.out().contains("zoo model"), r.out());
        assertTrue(r.out().contains("| lfssd |"), r.out());
        assertEquals(2, CliRunner.run("compare", "--data", "fashion-mnist", "--forget-class", "1", "--methods", "ssd,magic").code());
    }

    @Test
    void aPlainStateDictRunsWithArch() throws Exception {
        Path sd = dir.resolve("cnn.safetensors");
        try (TorchScriptModel ts = TorchScriptModel.load(CliRunner.model())) {
            Weights.save(ts, sd); // a state_dict without Lethe's architecture metadata, as PyTorch would save it
        }
        CliRunner.Result no = CliRunner.run("eval", "--model", sd.toString(), "--data", "fashion-mnist", "--train-limit", "300",
                "--forget-class", "1", "-q");
        assertEquals(1, no.code());
        assertTrue(no.err().contains("--arch"), no.err());
        CliRunner.Result yes = CliRunner.run("eval", "--model", sd.toString(), "--arch", "cnn", "--data", "fashion-mnist",
                "--train-limit", "300", "--forget-class", "1", "--json", "-q");
        assertEquals(0, yes.code(), yes.toString());
        assertTrue(JSON.readTree(yes.out()).get("metrics").get("retain_test_acc").asDouble() > 0.85, "the fixture CNN's accuracy");
    }

    @Test
    void methodOptionsAreChecked() {
        String m = CliRunner.model().toString();
        String out = dir.resolve("o.pt").toString();
        CliRunner.Result r = CliRunner.run("forget", "--model", m, "--data", "fashion-mnist", "--forget-class", "1", "--method", "deepclean",
                "--gamma", "3", "--reset-fraction", "0.1", "--out", out, "-q");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("not both"), r.err());
        r = CliRunner.run("forget", "--model", m, "--data", "fashion-mnist", "--forget-class", "1", "--method", "rfa", "--rfa-shift",
                "sideways", "--out", out, "-q");
        assertEquals(2, r.code(), r.toString());
        r = CliRunner.run("forget", "--model", m, "--data", "fashion-mnist", "--forget-class", "1", "--method", "finetune", "--estimator",
                "batch", "--out", out, "-q");
        assertEquals(2, r.code(), r.toString());
        r = CliRunner.run("forget", "--model", m, "--data", "fashion-mnist", "--train-limit", "500", "--forget-class", "1", "--method",
                "mnemonic", "--out", out, "--no-eval", "-q");
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().contains("no mnemonic codes"), r.err());
        r = CliRunner.run("forget", "--model", m, "--data", "fashion-mnist", "--forget-class", "1", "--alpha", "lots", "--out", out, "-q");
        assertEquals(2, r.code(), r.toString());
        assertTrue(!Files.exists(Path.of(out)));
    }
}
