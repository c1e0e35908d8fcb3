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
        return create(arch, config, seed, true);
    }

    /**
     * A network of this shape whose parameters are zeros, for a caller that overwrites every parameter and buffer
     * next (a state_dict loaded, a replica's copy): drawing ResNet-18's 11.7 M initial values took 0.65 s, once per
     * replica of every importance pass.
     */
    static Net createToFill(String arch, ZooConfig config) {
        return create(arch, config, 0, false);
    }

    private static Net create(String arch, ZooConfig config, long seed, boolean draw) {
        ai.lethe.model.Libtorch.ensureLoaded();
        return switch (normalise(arch)) {
            case "mlp" -> new MlpNet(config, seed, draw);
            case "cnn" -> new CnnNet(config, seed, draw);
            case "resnet18-cifar" -> new ResNet18Net(true, config, seed, draw);
            case "resnet18" -> new ResNet18Net(false, config, seed, draw);
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
