package ai.lethe.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.function.Consumer;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * {@code --report} and {@code --json}, taken the same way by every command that reports (forget, eval, demo,
 * train, profile, fisher, selftest and the bench subcommands): the report file is registered with the command's
 * other outputs, so it is checked with them before any work, and written atomically.
 */
final class ReportOptions {

    @Option(names = "--report", paramLabel = "R.json", description = "Also write the report as JSON to this file.")
    Path report;

    @Option(names = "--json", description = "Print the report as JSON on stdout instead of the table.")
    boolean json;

    /** Adds --report to the outputs {@code paths} checks. */
    CliOutput.Paths register(CliOutput.Paths paths) {
        return paths.output("--report", report);
    }

    /** Writes {@code result} to --report if given, and prints it as JSON (--json) or through {@code table}. */
    void emit(CommandLine cmd, Object result, Consumer<PrintWriter> table) throws IOException {
        CliOutput.emit(cmd, result, report, json, table);
    }
}
