package ai.lethe.cli;

import ai.lethe.DataOnDevice;
import ai.lethe.InvalidSettingException;
import ai.lethe.Lethe;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** {@code --data-on-device}: decode the data set once into the model's device memory instead of streaming every pass. */
final class DataOnDeviceOption {

    @Option(names = "--data-on-device", paramLabel = "auto|on|off", defaultValue = "auto", converter = Converter.class,
            description = "Decode the training and test sets once into the model's device memory, so every pass (importances,"
                    + " training, evaluation) takes its batches there without reading or copying them again. auto: when the"
                    + " model is on a GPU and the data takes at most 2 GiB as fp32 (Fashion-MNIST 188 MB, CIFAR-10 614 MB);"
                    + " on: always (on the CPU: decoded once into host memory, which must hold it); off: stream from disk on"
                    + " every pass (default: ${DEFAULT-VALUE}).")
    DataOnDevice mode;

    Lethe applyTo(Lethe lethe) {
        return lethe.dataOnDevice(mode == null ? DataOnDevice.AUTO : mode);
    }

    static final class Converter implements CommandLine.ITypeConverter<DataOnDevice> {
        @Override
        public DataOnDevice convert(String value) {
            try {
                return DataOnDevice.parse(value);
            } catch (InvalidSettingException e) {
                throw new CommandLine.TypeConversionException("expected auto, on or off, got '" + value + "'");
            }
        }
    }
}
