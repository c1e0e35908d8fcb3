package ai.lethe.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.lethe.data.DataSource;

/** Test inputs: the bundled Fashion-MNIST CNN, the PyTorch-made golden outputs, the real dataset. */
public final class Fixtures {

    private static Path model;

    private Fixtures() {
    }

    /** The fixture CNN (also the demo model), copied out of the classpath once per JVM. */
    public static synchronized Path cnnModel() {
        if (model == null) {
            try (InputStream in = Fixtures.class.getResourceAsStream("/ai/lethe/demo/fmnist-cnn.pt")) {
                Path p = Files.createTempFile("fmnist-cnn", ".pt");
                p.toFile().deleteOnExit();
                Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
                model = p;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return model;
    }

    /** A golden file of the PyTorch oracle, for example golden("ssd", "importance_full.safetensors"). */
    public static Path golden(String method, String file) {
        try {
            return Path.of(Fixtures.class.getResource("/fixtures/golden-" + method + "-cnn/" + file).toURI());
        } catch (Exception e) {
            throw new IllegalStateException("missing test fixture " + method + "/" + file, e);
        }
    }

    public static JsonNode goldenResult(String method) throws IOException {
        return new ObjectMapper().readTree(golden(method, "result.json").toFile());
    }

    /** Real Fashion-MNIST; fails (not skips) when it is missing, because CI installs it. */
    public static DataSource fashionMnist(int trainLimit) throws IOException {
        assertTrue(Files.isDirectory(DataSource.FASHION_MNIST_DIR),
                "Fashion-MNIST is missing: apt-get install dataset-fashion-mnist");
        return DataSource.open("fashion-mnist", trainLimit);
    }
}
