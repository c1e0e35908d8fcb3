package ai.lethe.model.zoo;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The shape of a zoo model: input channels, image size (square), number of classes, and per-architecture
 * sizes (ResNet base width, MLP hidden units). Stored in the model file's metadata.
 *
 * @param inChannels input channels (1 for Fashion-MNIST)
 * @param imageSize  input height and width (28 for Fashion-MNIST); the cnn and mlp depend on it
 * @param numClasses output classes
 * @param width      ResNet base width (64 as published; smaller for quick tests)
 * @param hidden     MLP hidden units (1000 as in the Mnemonic-code paper)
 */
public record ZooConfig(int inChannels, int imageSize, int numClasses, int width, int hidden) {

    public static ZooConfig defaults(int inChannels, int imageSize, int numClasses) {
        return new ZooConfig(inChannels, imageSize, numClasses, 64, 1000);
    }

    public ZooConfig {
        if (inChannels < 1 || imageSize < 1 || numClasses < 2 || width < 1 || hidden < 1) {
            throw new IllegalArgumentException("invalid model shape: " + inChannels + " channels, " + imageSize + "px, "
                    + numClasses + " classes, width " + width + ", hidden " + hidden);
        }
    }

    public ZooConfig withWidth(int w) {
        return new ZooConfig(inChannels, imageSize, numClasses, w, hidden);
    }

    Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("lethe.in_channels", Integer.toString(inChannels));
        m.put("lethe.image_size", Integer.toString(imageSize));
        m.put("lethe.num_classes", Integer.toString(numClasses));
        m.put("lethe.width", Integer.toString(width));
        m.put("lethe.hidden", Integer.toString(hidden));
        return m;
    }

    static ZooConfig fromMetadata(Map<String, String> m) {
        try {
            return new ZooConfig(Integer.parseInt(m.get("lethe.in_channels")), Integer.parseInt(m.get("lethe.image_size")),
                    Integer.parseInt(m.get("lethe.num_classes")), Integer.parseInt(m.getOrDefault("lethe.width", "64")),
                    Integer.parseInt(m.getOrDefault("lethe.hidden", "1000")));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("the model file's lethe.* metadata is incomplete or corrupt (" + e.getMessage() + ")");
        }
    }
}
