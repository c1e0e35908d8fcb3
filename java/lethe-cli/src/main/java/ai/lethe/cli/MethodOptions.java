package ai.lethe.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import ai.lethe.ForgetRequest;
import ai.lethe.InvalidSettingException;
import ai.lethe.importance.Estimator;
import ai.lethe.method.Method;
import ai.lethe.method.MethodSettings;
import ai.lethe.method.SettingField;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * The method and its settings, shared by {@code forget} and {@code profile} so both accept exactly the same run.
 * The run-level options are declared here; every method setting is an option generated from the {@link Method}
 * registry by {@link Generated} (a field several methods share, such as {@code --epochs}, is one option), so a
 * new method brings its options with it.
 */
final class MethodOptions {

    @Option(names = "--method", paramLabel = "METHOD", defaultValue = "ssd", converter = Converters.MethodConverter.class,
            completionCandidates = MethodNames.class, description = "${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Method method;

    /** The registry's method ids, for --method's help. */
    static final class MethodNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return java.util.Arrays.stream(Method.values()).map(Method::id).iterator();
        }
    }

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "64",
            description = "Batch size of the importance passes (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--estimator", paramLabel = "E", converter = Converters.EstimatorConverter.class,
            description = "Importance estimator: batch (SSD reference), per-sample (exact empirical Fisher) or label-free (LFSSD). Default: the method's own.")
    Estimator estimator;

    @Option(names = "--importance-full", paramLabel = "I.safetensors",
            description = "Reuse a stored importance over the full training set D (from 'lethe fisher --subset full' or --save-importances) instead of computing it; refused if it belongs to another model or other settings.")
    Path importanceFull;

    /** The old name of --importance-full: the file never held an importance over the retain set. */
    @Option(names = "--retain-importance", paramLabel = "I.safetensors", hidden = true,
            description = "Deprecated name of --importance-full.")
    Path retainImportance;

    @Option(names = "--save-importances", paramLabel = "DIR",
            description = "Also write the importances computed: DIR/importance_full.safetensors (I_D; deepclean: importance_retain.safetensors, I_r) and DIR/importance_forget.safetensors (I_f).")
    Path saveImportances;

    @Option(names = "--no-eval", description = "Skip the before/after evaluation (faster).")
    boolean noEval;

    /** The stored importance over D to reuse, by either name. */
    Path importanceFull() {
        return importanceFull != null ? importanceFull : retainImportance;
    }

    /** Registers the files these options read and write. */
    CliOutput.Paths paths(CommandLine cmd, CliOutput.Paths paths) {
        paths.input(importanceFull != null ? "--importance-full" : "--retain-importance", importanceFull());
        CommandLine.ParseResult parsed = cmd.getParseResult();
        for (SettingField f : Generated.fields().values()) {
            if (f.type() == Path.class && parsed != null && parsed.hasMatchedOption(f.option())) {
                paths.input(f.option(), Path.of(parsed.matchedOptionValue(f.option(), "")));
            }
        }
        if (saveImportances != null) {
            // Saving a reused I_D again over itself is harmless (it was read in full first), so only a fresh one counts.
            String first = method == Method.DEEPCLEAN ? "importance_retain.safetensors" : "importance_full.safetensors";
            paths.output("--save-importances", importanceFull() != null ? null : saveImportances.resolve(first))
                    .output("--save-importances", saveImportances.resolve("importance_forget.safetensors"));
        }
        return paths;
    }

    /** The request these options (with the data and forget set) describe, validated; a usage error otherwise. */
    ForgetRequest request(CommandLine cmd, DataOptions data, ForgetSetOptions forget) throws java.io.IOException {
        try {
            if (importanceFull != null && retainImportance != null) {
                throw new CommandLine.ParameterException(cmd, "give --importance-full once (--retain-importance is its old name)");
            }
            ForgetRequest request = ForgetRequest.of(data.data, forget.required(cmd)).method(method).estimator(estimator)
                    .batchSize(batchSize).trainLimit(data.trainLimit).importanceFull(importanceFull())
                    .saveImportances(saveImportances).evaluate(!noEval).seed(forget.seed)
                    .settings(settings(cmd, method));
            request.validate();
            if (retainImportance != null) {
                cmd.getErr().println("note: --retain-importance is deprecated, use --importance-full (the file holds the"
                        + " importance over the full training set)");
            }
            noteIgnoredOptions(cmd, request);
            return request;
        } catch (InvalidSettingException e) {
            throw new CommandLine.ParameterException(cmd, e.message(CliNames::option));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, e.getMessage());
        }
    }

    /** The method's defaults with the generated options given on the command line applied, checked by the record. */
    private static MethodSettings settings(CommandLine cmd, Method method) {
        CommandLine.ParseResult parsed = cmd.getParseResult();
        Map<String, Object> given = new LinkedHashMap<>();
        if (parsed != null) {
            for (SettingField f : method.fields()) {
                if (parsed.hasMatchedOption(f.option())) {
                    given.put(f.name(), parsed.matchedOptionValue(f.option(), ""));
                }
            }
        }
        return (MethodSettings) SettingField.with((Record) method.defaults(), given);
    }

    /**
     * Says on stderr which of the given options the chosen method does not read: a setting silently ignored
     * (a --gamma given to ssd, an --importance-full to finetune) looks as if it had been applied.
     */
    private void noteIgnoredOptions(CommandLine cmd, ForgetRequest request) {
        CommandLine.ParseResult parsed = cmd.getParseResult();
        if (parsed == null) {
            return;
        }
        Method m = request.method();
        List<String> ignored = new ArrayList<>();
        Map<String, Predicate<Method>> runLevel = new LinkedHashMap<>();
        runLevel.put("--estimator", Method::usesImportances);
        runLevel.put("--batch-size", Method::usesImportances);
        runLevel.put("--save-importances", Method::usesImportances);
        runLevel.put("--importance-full", Method::reusesImportanceFull);
        runLevel.put("--retain-importance", Method::reusesImportanceFull);
        runLevel.forEach((option, reads) -> {
            if (parsed.hasMatchedOption(option) && !reads.test(m)) {
                ignored.add(option);
            }
        });
        java.util.Set<String> own = m.fields().stream().map(SettingField::name).collect(Collectors.toSet());
        List<String> unused = new ArrayList<>();
        for (SettingField f : Generated.fields().values()) {
            if (!parsed.hasMatchedOption(f.option())) {
                continue;
            }
            if (!own.contains(f.name())) {
                ignored.add(f.option());
            } else if (request.settings().unusedFields().contains(f.name())) {
                unused.add(f.option());
            }
        }
        if (!ignored.isEmpty()) {
            cmd.getErr().println("note: " + String.join(", ", ignored) + (ignored.size() == 1 ? " does" : " do")
                    + " not apply to " + m.id() + " and " + (ignored.size() == 1 ? "is" : "are") + " ignored");
        }
        if (!unused.isEmpty()) {
            String auto = m.fields().stream().filter(f -> f.setting().auto()).map(SettingField::option).findFirst().orElse("--alpha");
            cmd.getErr().println("note: " + String.join(", ", unused) + (unused.size() == 1 ? " only applies" : " only apply")
                    + " with " + auto + " auto and " + (unused.size() == 1 ? "is" : "are") + " ignored");
        }
        cmd.getErr().flush();
    }

    /**
     * Adds one option per settings field of the methods in the registry, with the methods that read it and their
     * defaults in its description. Named on the commands that take {@link MethodOptions} as their model transformer.
     */
    static final class Generated implements CommandLine.IModelTransformer {

        /** Every settings field of every method, by name (a field several methods share is listed once). */
        static Map<String, SettingField> fields() {
            Map<String, SettingField> out = new LinkedHashMap<>();
            for (Method m : Method.values()) {
                for (SettingField f : m.fields()) {
                    out.putIfAbsent(f.name(), f);
                }
            }
            return out;
        }

        @Override
        public CommandSpec transform(CommandSpec spec) {
            List<String> description = new ArrayList<>(List.of(spec.usageMessage().description()));
            description.add(Math.min(1, description.size()), "");
            description.add(Math.min(2, description.size()), "Methods: " + java.util.Arrays.stream(Method.values())
                    .map(m -> m.id() + " (" + m.summary() + "; needs " + m.needs() + ")").collect(Collectors.joining("; ")) + ".");
            spec.usageMessage().description(description.toArray(new String[0]));
            for (SettingField f : fields().values()) {
                spec.addOption(OptionSpec.builder(f.optionNames()).paramLabel(f.setting().label()).type(String.class)
                        .arity("1").description(description(f)).build());
            }
            return spec;
        }

        /** "DOC (METHODS; default: ...)": the methods that read the field and their defaults. */
        static String description(SettingField f) {
            Map<String, List<String>> byDefault = new LinkedHashMap<>();
            for (Method m : Method.values()) {
                SettingField own = m.fields().stream().filter(g -> g.name().equals(f.name())).findFirst().orElse(null);
                if (own != null) {
                    Object v = own.valueIn((Record) m.defaults());
                    String shown = v == null ? (own.setting().whenAbsent().isEmpty() ? "none" : own.setting().whenAbsent()) : CliNames.value(v);
                    byDefault.computeIfAbsent(shown, k -> new ArrayList<>()).add(m.id());
                }
            }
            String defaults = byDefault.size() == 1
                    ? String.join(", ", byDefault.values().iterator().next()) + "; default: " + byDefault.keySet().iterator().next()
                    : "default: " + byDefault.entrySet().stream().map(e -> String.join(", ", e.getValue()) + " " + e.getKey())
                            .collect(Collectors.joining("; "));
            return f.setting().doc() + (f.setting().values().length > 0 ? " (" + String.join(", ", f.setting().values()) + ")" : "")
                    + " [" + defaults + "].";
        }
    }
}
