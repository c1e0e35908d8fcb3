package ai.lethe.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import ai.lethe.io.AtomicFiles;
import picocli.CommandLine;

/** What the commands do with their outputs, done one way. */
final class CliOutput {

    private CliOutput() {
    }

    /** A usage error when an output option names a directory. */
    static void requireFileTarget(CommandLine cmd, String option, Path target) {
        if (target != null && Files.isDirectory(target)) {
            throw new CommandLine.ParameterException(cmd, option + " " + target + " is a directory; name the file to write");
        }
    }

    /**
     * Writes {@code result} as JSON to {@code reportFile} (if given, atomically), then prints it on stdout as
     * JSON ({@code json}) or through {@code table}.
     */
    static void emit(CommandLine cmd, Object result, Path reportFile, boolean json, Consumer<PrintWriter> table)
            throws IOException {
        String text = Json.write(result);
        if (reportFile != null) {
            AtomicFiles.writeString(reportFile, text + "\n");
        }
        PrintWriter out = cmd.getOut();
        if (json) {
            out.println(text);
        } else {
            table.accept(out);
        }
        out.flush();
    }
}
