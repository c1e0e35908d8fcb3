package ai.lethe.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import ai.lethe.method.Method;
import ai.lethe.method.SettingField;

/**
 * The README's method and API sections say what the registry says: the methods table lists exactly the
 * registry's methods, the settings table each method's fields (and the CLI option where it is not the field's
 * name), and the service section the run-level fields a job takes.
 */
class ReadmeRegistryTest {

    private static final Pattern TICKED = Pattern.compile("`([^`]+)`");
    private static final Pattern FIELD_WITH_OPTION = Pattern.compile("`([a-z0-9_]+)` \\(`(--[a-z0-9-]+)`");

    private static String section(String heading, String next) throws IOException {
        String readme = Files.readString(Path.of("../../README.md"));
        int start = readme.indexOf(heading);
        assertTrue(start >= 0, heading);
        int end = readme.indexOf(next, start + heading.length());
        return readme.substring(start, end < 0 ? readme.length() : end);
    }

    private static List<String> ticked(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = TICKED.matcher(text);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    @Test
    void theMethodTablesAreTheRegistry() throws IOException {
        String methods = section("## Methods", "### Comparing methods");
        int split = methods.indexOf("| methods | settings |");
        assertTrue(split > 0, "the settings table");
        Set<String> described = new TreeSet<>();
        for (String line : methods.substring(0, split).split("\n")) {
            if (line.startsWith("| `")) {
                described.addAll(ticked(line.substring(1, line.indexOf('|', 1))));
            }
        }
        Set<String> withSettings = new TreeSet<>();
        int settingsRows = 0;
        for (String line : methods.substring(split).split("\n")) {
            if (!line.startsWith("| `")) {
                continue;
            }
            int bar = line.indexOf('|', 1);
            List<String> ids = ticked(line.substring(1, bar));
            String rest = line.substring(bar + 1);
            settingsRows++;
            Set<String> listed = new LinkedHashSet<>();
            for (String t : ticked(rest)) {
                if (t.matches("[a-z][a-z0-9_]*") && !t.equals("auto")) {
                    listed.add(t);
                }
            }
            Matcher explicit = FIELD_WITH_OPTION.matcher(rest);
            Set<String> withOption = new TreeSet<>();
            while (explicit.find()) {
                withOption.add(explicit.group(1));
                for (String id : ids) {
                    assertEquals(explicit.group(2), field(Method.parse(id), explicit.group(1)).option(), id + " " + explicit.group(1));
                }
            }
            for (String id : ids) {
                Method m = Method.parse(id);
                withSettings.add(m.id());
                Set<String> fields = new TreeSet<>();
                m.fields().forEach(f -> fields.add(f.name()));
                assertEquals(fields, new TreeSet<>(listed), "README settings of " + id);
                for (SettingField f : m.fields()) {
                    if (!withOption.contains(f.name())) {
                        assertEquals("--" + f.name().replace('_', '-'), f.option(), id + ": " + f.name()
                                + " has its own CLI option, which the README must give");
                    }
                }
            }
        }
        Set<String> registry = new TreeSet<>();
        Arrays.stream(Method.values()).forEach(m -> registry.add(m.id()));
        assertEquals(registry, described, "the methods table");
        assertEquals(registry, withSettings, "the settings table");
        assertTrue(settingsRows >= 5);
    }

    @Test
    void theServiceSectionListsTheRunLevelFieldsOfAJob() throws IOException {
        String service = section("How it behaves:", "- **Jobs**");
        String runLevel = service.substring(service.indexOf("(`model`"), service.indexOf(")", service.indexOf("(`model`")));
        assertEquals(new TreeSet<>(ForgetJobSpec.RUN_FIELDS), new TreeSet<>(ticked(runLevel)));
    }

    private static SettingField field(Method m, String name) {
        return m.fields().stream().filter(f -> f.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(m.id() + " has no setting " + name));
    }
}
