package ai.lethe.cli;

import java.io.PrintWriter;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code lethe} command. Each subcommand parses its options and calls the core library. */
@Command(name = "lethe",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        usageHelpAutoWidth = true,
        description = {
            "Lethe makes a trained model forget data it was trained on (a class, a deletion request, poisoned samples) in seconds, without retraining.",
            "",
            "Exit status: 0 success, 2 bad usage, 1 any other error (one line on stderr). Set -Dlethe.debug=true in LETHE_JAVA_OPTS for stack traces."
        },
        subcommands = {
            ForgetCommand.class,
            FisherCommand.class,
            EvalCommand.class,
            DemoCommand.class,
            TrainCommand.class,
            CompareCommand.class,
            ProfileCommand.class,
            SelftestCommand.class,
            BenchCommand.class,
            ServeCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit status (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        if (args.length > 0 && args[0].equals("serve")) {
            ServeCommand.loggingDefaults(); // before option parsing creates the first logger
        }
        return commandLine().execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            PrintWriter err = cmd.getErr();
            ai.lethe.InvalidSettingException invalid = invalidSetting(ex);
            if (invalid != null) {
                // a setting the core found invalid is a usage error, reported as picocli reports its own
                String name = cmd.getCommandSpec().qualifiedName();
                err.println(name + ": " + invalid.message(CliNames::option) + " (see '" + name + " --help')");
                err.flush();
                return CommandLine.ExitCode.USAGE;
            }
            err.println(cmd.getCommandSpec().qualifiedName() + ": error: " + Errors.message(ex));
            if (Boolean.getBoolean("lethe.debug")) {
                ex.printStackTrace(err);
            }
            err.flush();
            return CommandLine.ExitCode.SOFTWARE;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine cmd = ex.getCommandLine();
            PrintWriter err = cmd.getErr();
            String name = cmd.getCommandSpec().qualifiedName();
            err.println(name + ": " + ex.getMessage() + " (see '" + name + " --help')");
            err.flush();
            return CommandLine.ExitCode.USAGE;
        });
        return cl;
    }

    private static ai.lethe.InvalidSettingException invalidSetting(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ai.lethe.InvalidSettingException e) {
                return e;
            }
        }
        return null;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
