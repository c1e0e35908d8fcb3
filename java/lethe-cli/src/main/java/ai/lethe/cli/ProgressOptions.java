package ai.lethe.cli;

import ai.lethe.report.ConsoleProgress;
import ai.lethe.report.Progress;
import picocli.CommandLine.Option;

/** {@code --quiet}: no progress on stderr. */
final class ProgressOptions {

    @Option(names = {"-q", "--quiet"}, description = "No progress output on stderr (errors are still reported).")
    boolean quiet;

    Progress progress() {
        return quiet ? Progress.NONE : ConsoleProgress.stderr();
    }
}
