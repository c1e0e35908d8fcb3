package ai.lethe;

import java.util.Locale;

import ai.lethe.data.Dataset;
import ai.lethe.model.DeviceDataset;
import ai.lethe.model.Model;

/**
 * Whether a run decodes its data set once into the model's device memory ({@link DeviceDataset}) instead of streaming
 * batches from disk on every pass. {@link #AUTO}: on when the model is on a GPU and the training and test sets
 * together take at most {@link #AUTO_LIMIT_BYTES} as fp32 (Fashion-MNIST 188 MB, CIFAR-10 614 MB); {@link #ON}:
 * always, also for a model on the CPU (the data set then has to fit in host memory, decoded once for all passes);
 * {@link #OFF}: stream every pass, the data never has to fit anywhere.
 */
public enum DataOnDevice {
    AUTO, ON, OFF;

    /** The most AUTO places on a GPU: far below any GPU that holds a model worth unlearning on, and a bounded host buffer. */
    public static final long AUTO_LIMIT_BYTES = 2L << 30;

    public static DataOnDevice parse(String s) {
        try {
            return valueOf(s.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new InvalidSettingException("data on device must be auto, on or off, got '" + s + "'");
        }
    }

    /** Whether data sets of {@code bytes} in all go to {@code model}'s device. */
    public boolean places(Model model, long bytes) {
        return switch (this) {
            case ON -> true;
            case OFF -> false;
            case AUTO -> model.placement().startsWith("cuda") && bytes <= AUTO_LIMIT_BYTES;
        };
    }

    /** fp32 bytes of the data sets together. */
    public static long bytes(Dataset... sets) {
        long b = 0;
        for (Dataset d : sets) {
            b += DeviceDataset.bytes(d);
        }
        return b;
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
