package ai.lethe.cli;

import java.io.IOException;
import java.nio.file.Path;

import ai.lethe.data.ForgetSet;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** What to forget: one of --forget-class, --forget-indices, --forget-random (with --seed). */
final class ForgetSetOptions {

    static final class Choice {
        @Option(names = "--forget-class", split = ",", paramLabel = "C",
                description = "Forget every training sample of class C (repeat or comma-separate for several).")
        int[] classes;

        @Option(names = "--forget-indices", paramLabel = "FILE",
                description = "Forget the training samples listed in FILE, one 0-based index per line (# comments allowed).")
        Path indices;

        @Option(names = "--forget-random", paramLabel = "FRACTION",
                description = "Forget a random FRACTION (0 < FRACTION < 1) of the training samples, drawn from --seed.")
        Double fraction;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Choice choice;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
            description = "Seed of everything random in the run: --forget-random, shuffling, LoRA initialisation, retraining, --alpha auto's hold-out (default: ${DEFAULT-VALUE}).")
    long seed;

    /** Registers the file these options read. */
    CliOutput.Paths inputs(CliOutput.Paths paths) {
        return paths.input("--forget-indices", choice == null ? null : choice.indices);
    }

    boolean present() {
        return choice != null;
    }

    /** The forget set, or a usage error when none was given. */
    ForgetSet required(CommandLine cmd) throws IOException {
        if (choice == null) {
            throw new CommandLine.ParameterException(cmd,
                    "say what to forget: --forget-class C, --forget-indices FILE or --forget-random FRACTION");
        }
        return toForgetSet(cmd);
    }

    /** The forget set, or null when none was given. */
    ForgetSet optional(CommandLine cmd) throws IOException {
        return choice == null ? null : toForgetSet(cmd);
    }

    private ForgetSet toForgetSet(CommandLine cmd) throws IOException {
        try {
            if (choice.classes != null) {
                return ForgetSet.classes(choice.classes);
            }
            if (choice.indices != null) {
                return ForgetSet.indicesFile(choice.indices);
            }
            return ForgetSet.random(choice.fraction, seed);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, e.getMessage());
        }
    }
}
