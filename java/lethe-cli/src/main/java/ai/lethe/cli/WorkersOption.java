package ai.lethe.cli;

import ai.lethe.Lethe;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** {@code --workers}: how many model replicas compute an importance pass side by side. */
final class WorkersOption {

    @Option(names = "--workers", paramLabel = "N", defaultValue = "auto", converter = Converter.class,
            description = "Importance passes on N workers, each a thread with its own model replica (on a GPU its own CUDA stream),"
                    + " taking every N-th batch; their sums are added at the end, so the result equals one worker's up to the"
                    + " order of fp32 additions. Applies to the batch estimators and to the per-sample estimator on zoo models"
                    + " (TorchScript models' per-sample passes use threads inside each batch instead). auto: 1, or one per"
                    + " GPU listed in --device cuda:0,1,..., and one per core for the per-sample estimator on the zoo cnn on the"
                    + " CPU (default: ${DEFAULT-VALUE}).")
    Integer workers;

    /** Applies an explicit --workers to the opened instance (auto leaves what the device chose). */
    Lethe applyTo(Lethe lethe) {
        if (workers != null) {
            lethe.workers(workers);
        }
        return lethe;
    }

    static final class Converter implements CommandLine.ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            if (value.equalsIgnoreCase("auto")) {
                return null;
            }
            try {
                int n = Integer.parseInt(value.strip());
                if (n < 1 || n > 64) {
                    throw new CommandLine.TypeConversionException("must be between 1 and 64, got " + n);
                }
                return n;
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("expected a number or auto, got '" + value + "'");
            }
        }
    }
}
