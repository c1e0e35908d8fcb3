package ai.lethe.cli;

import ai.lethe.kernels.Backends;
import ai.lethe.kernels.Kernels;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** {@code --device}: which kernel back end runs the accumulation and update kernels. */
final class DeviceOption {

    @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "auto", converter = Converter.class,
            description = "Where the work runs: auto (CUDA when a device is present, else vector), cpu (= vector: Vector API on all cores), scalar (single-threaded reference), cuda or cuda:N (the model, its gradients, the importances and the update on that GPU when libtorch is its CUDA build; else only the kernels), cuda:0,1,... or cuda:all (importance passes sharded over several GPUs, one replica each) (default: ${DEFAULT-VALUE}).")
    String name;

    Kernels open() {
        return Backends.open(name);
    }

    static final class Converter implements CommandLine.ITypeConverter<String> {
        @Override
        public String convert(String value) {
            try {
                return Backends.validate(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
