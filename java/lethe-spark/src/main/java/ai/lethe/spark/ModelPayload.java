package ai.lethe.spark;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import ai.lethe.model.Model;
import ai.lethe.model.ModelException;
import ai.lethe.model.Models;
import ai.lethe.model.zoo.ZooModel;

/**
 * A model as the bytes of its file (TorchScript, or a zoo model's safetensors state_dict with its architecture in
 * the metadata), broadcast to the executors once and opened there by every task. The fingerprint travels with it,
 * so an executor that opened something else (another libtorch, a damaged copy) fails instead of adding to the sum.
 */
final class ModelPayload implements Serializable {

    private static final long serialVersionUID = 1L;

    private final byte[] bytes;
    private final String suffix;
    private final String fingerprint;

    private ModelPayload(byte[] bytes, String suffix, String fingerprint) {
        this.bytes = bytes;
        this.suffix = suffix;
        this.fingerprint = fingerprint;
    }

    /** The model as it is now (with any weights loaded into it), serialised through its own save. */
    static ModelPayload of(Model model) throws IOException {
        String suffix = model instanceof ZooModel ? ".safetensors" : ".pt";
        Path tmp = Files.createTempFile("lethe-spark-model-", suffix);
        try {
            model.save(tmp);
            return new ModelPayload(Files.readAllBytes(tmp), suffix, model.fingerprint());
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    String fingerprint() {
        return fingerprint;
    }

    long size() {
        return bytes.length;
    }

    /** Opens a fresh copy of the model (the caller closes it). */
    Model open() {
        Path tmp = null;
        try {
            tmp = Files.createTempFile("lethe-spark-model-", suffix);
            Files.write(tmp, bytes);
            Model m = Models.load(tmp);
            if (!m.fingerprint().equals(fingerprint)) {
                String got = m.fingerprint();
                m.close();
                throw new ModelException("the model opened on this executor has fingerprint " + got
                        + ", the driver's has " + fingerprint);
            }
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the broadcast model on this executor: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // a temp file left behind is harmless
                }
            }
        }
    }
}
