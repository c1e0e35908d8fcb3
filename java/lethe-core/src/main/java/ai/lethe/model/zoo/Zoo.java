package ai.lethe.model.zoo;

import java.util.List;
import java.util.Locale;

/** The architectures defined in Java. */
public final class Zoo {

    /** Names {@link #create} accepts. */
    public static final List<String> ARCHITECTURES = List.of("mlp", "cnn", "resnet18-cifar", "resnet18");

    private Zoo() {
    }

    /** A freshly initialised network, reproducible from the seed. */
    public static Net create(String arch, ZooConfig config, long seed) {
        ai.lethe.model.Libtorch.ensureLoaded();
        return switch (normalise(arch)) {
            case "mlp" -> new MlpNet(config, seed);
            case "cnn" -> new CnnNet(config, seed);
            case "resnet18-cifar" -> new ResNet18Net(true, config, seed);
            case "resnet18" -> new ResNet18Net(false, config, seed);
            default -> throw new ai.lethe.InvalidSettingException("unknown architecture '" + arch + "' (expected one of " + ARCHITECTURES + ")");
        };
    }

    public static String normalise(String arch) {
        String a = arch.strip().toLowerCase(Locale.ROOT);
        if (!ARCHITECTURES.contains(a)) {
            throw new ai.lethe.InvalidSettingException("unknown architecture '" + arch + "' (expected one of " + ARCHITECTURES + ")");
        }
        return a;
    }
}
