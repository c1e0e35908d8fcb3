package ai.lethe.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

import ai.lethe.io.AtomicFiles;
import picocli.CommandLine;

/** What the commands do with their outputs, done one way. */
final class CliOutput {

    private CliOutput() {
    }

    /**
     * A usage error unless {@code target} can become a file: not blank, not a directory, not a device, pipe or
     * other non-regular file (outputs are renamed into place, which would replace such a file, /dev/null
     * included), and in a directory this user can write (so that a late output cannot fail after earlier ones
     * were written).
     */
    static void requireFileTarget(CommandLine cmd, String option, Path target) {
        if (target == null) {
            return;
        }
        if (target.toString().isBlank()) {
            throw new CommandLine.ParameterException(cmd, option + " needs a file name");
        }
        if (Files.isDirectory(target)) {
            throw new CommandLine.ParameterException(cmd, option + " " + target + " is a directory; name the file to write");
        }
        if (Files.exists(target) && !Files.isRegularFile(target)) {
            throw new CommandLine.ParameterException(cmd, option + " " + target
                    + " exists and is not a regular file (a device, pipe or socket); name a file to write");
        }
        Path dir = target.toAbsolutePath().normalize().getParent();
        while (dir != null && !Files.exists(dir)) {
            dir = dir.getParent(); // missing directories are created: the nearest existing one must be writable
        }
        if (dir != null && !Files.isDirectory(dir)) {
            throw new CommandLine.ParameterException(cmd, option + " " + target + ": " + dir + " is a file, not a directory");
        }
        if (dir != null && !Files.isWritable(dir)) {
            throw new CommandLine.ParameterException(cmd, option + " " + target + ": cannot write in " + dir);
        }
    }

    /** A usage error unless {@code target} is named *.safetensors, the format {@code what} is written in. */
    static void requireSafetensorsName(CommandLine cmd, String option, Path target, String what) {
        if (!ai.lethe.model.Weights.isSafetensors(target)) {
            throw new CommandLine.ParameterException(cmd, option + " " + target + ": " + what + "; name the file *.safetensors");
        }
    }

    /** The files a command reads and writes, checked before any work starts. */
    static Paths paths(CommandLine cmd) {
        return new Paths(cmd);
    }

    /**
     * Collects a command's inputs and outputs; {@link #check} refuses (as a usage error) an output that is not a
     * writable file target, that is one of the inputs (through any path or symlink), or that another output also
     * names: each of these would silently destroy a file the user still needs.
     */
    static final class Paths {
        private record Named(String option, Path path) {
        }

        private final CommandLine cmd;
        private final List<Named> inputs = new ArrayList<>();
        private final List<Named> outputs = new ArrayList<>();

        private Paths(CommandLine cmd) {
            this.cmd = cmd;
        }

        Paths input(String option, Path path) {
            if (path != null) {
                inputs.add(new Named(option, path));
            }
            return this;
        }

        Paths output(String option, Path path) {
            if (path != null) {
                outputs.add(new Named(option, path));
            }
            return this;
        }

        /** The data files of a --data spec that names a directory (each file in it counts as an input). */
        Paths data(String spec) {
            Path dir = spec == null ? null : ai.lethe.data.DataSource.directory(spec);
            if (dir != null && Files.isDirectory(dir)) {
                try (Stream<Path> files = Files.list(dir)) {
                    files.filter(Files::isRegularFile).forEach(f -> inputs.add(new Named("--data", f)));
                } catch (IOException e) {
                    // unreadable: opening the data reports it
                }
            }
            return this;
        }

        void check() {
            for (Named o : outputs) {
                requireFileTarget(cmd, o.option(), o.path());
            }
            for (int i = 0; i < outputs.size(); i++) {
                Named o = outputs.get(i);
                Path key = key(o.path());
                for (Named in : inputs) {
                    if (key.equals(key(in.path()))) {
                        throw new CommandLine.ParameterException(cmd, o.option() + " " + o.path() + " is the input given as "
                                + in.option() + (in.path().equals(o.path()) ? "" : " (" + in.path() + ")")
                                + "; writing it would destroy that input: name another file");
                    }
                }
                for (int j = 0; j < i; j++) {
                    if (key.equals(key(outputs.get(j).path()))) {
                        throw new CommandLine.ParameterException(cmd, o.option() + " and " + outputs.get(j).option()
                                + " name the same file (" + o.path() + "): name two files");
                    }
                }
            }
        }

        /** The file a path ends at: symlinks and ".." resolved, also for a file that does not exist yet. */
        private static Path key(Path p) {
            Path abs = p.toAbsolutePath().normalize();
            try {
                return abs.toRealPath();
            } catch (IOException e) {
                Path parent = abs.getParent();
                if (parent != null && abs.getFileName() != null) {
                    try {
                        return parent.toRealPath().resolve(abs.getFileName());
                    } catch (IOException ignored) {
                        // the directory does not exist either
                    }
                }
                return abs;
            }
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
