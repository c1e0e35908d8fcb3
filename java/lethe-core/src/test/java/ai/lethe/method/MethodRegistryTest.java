package ai.lethe.method;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import ai.lethe.ForgetRequest;
import ai.lethe.InvalidSettingException;
import ai.lethe.data.ForgetSet;

/**
 * The registry and the settings records: every method has settings, defaults that pass their own checks and
 * an implementation; every documented bound of every field is the bound the record's constructor enforces (a
 * value just beyond it is refused, naming the field; the bound itself or a value just inside is accepted), so
 * the OpenAPI document and the CLI help generated from the annotations say what the core does.
 */
class MethodRegistryTest {

    @Test
    void everyMethodDeclaresSettingsDefaultsAndAnImplementation() {
        Set<String> ids = new TreeSet<>();
        for (Method m : Method.values()) {
            assertTrue(ids.add(m.id()), "unique id " + m.id());
            assertNotNull(m.implementation(), m.id());
            assertTrue(m.settingsType().isInstance(m.defaults()), m.id());
            assertTrue(m.settingsType().isRecord(), m.id());
            assertTrue(!m.fields().isEmpty(), m.id() + " has settings");
            assertSame(m, Method.parse(m.id().toUpperCase()));
            assertEquals(m.usesImportances(), m.defaultEstimator() != null, m.id());
            ForgetRequest r = ForgetRequest.of("fashion-mnist", ForgetSet.classes(1)).method(m);
            r.validate();
            assertSame(m.defaults(), r.settings(), "a request starts at its method's defaults");
        }
        assertTrue(ids.containsAll(Set.of("ssd", "lfssd", "mnemonic", "deepclean", "rfa", "finetune", "neggrad", "retrain")), ids.toString());
        assertTrue(Method.RETRAIN.baseline() && Method.FINETUNE.baseline() && Method.NEGGRAD.baseline());
        assertTrue(!Method.SSD.baseline() && !Method.RFA.baseline());
    }

    /**
     * Every implementation of {@link UnlearningMethod} in this package is offered by the registry (a method class
     * without its line in {@link Method} would be code that no front end can run), found by listing the compiled
     * package, so a new method needs no list in this test.
     */
    @Test
    void everyMethodClassIsInTheRegistry() throws Exception {
        Path dir = Path.of(UnlearningMethod.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve(UnlearningMethod.class.getPackageName().replace('.', '/'));
        assertTrue(Files.isDirectory(dir), "the compiled package is a directory in the build: " + dir);
        Set<String> implementations = new TreeSet<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String file = f.getFileName().toString();
                if (!file.endsWith(".class")) {
                    continue;
                }
                Class<?> c = Class.forName(UnlearningMethod.class.getPackageName() + "." + file.substring(0, file.length() - 6), false,
                        UnlearningMethod.class.getClassLoader());
                if (UnlearningMethod.class.isAssignableFrom(c) && !c.isInterface() && !Modifier.isAbstract(c.getModifiers())) {
                    implementations.add(c.getName());
                }
            }
        }
        Set<String> registered = new TreeSet<>();
        for (Method m : Method.values()) {
            registered.add(m.implementation().getClass().getName());
        }
        assertTrue(implementations.size() >= 7, "the method classes were found: " + implementations);
        assertEquals(implementations, registered, "the registry offers every method class, and only those");
    }

    @Test
    void everyDocumentedBoundIsTheBoundTheConstructorChecks() {
        int checked = 0;
        for (Method m : Method.values()) {
            for (SettingField f : m.fields()) {
                Setting s = f.setting();
                if (f.numeric() && Double.isFinite(s.minimum())) {
                    double min = s.minimum();
                    refused(m, f, f.integral() ? (s.exclusiveMinimum() ? min : min - 1) : (s.exclusiveMinimum() ? min : below(min)));
                    accepted(m, f, s.exclusiveMinimum() ? (f.integral() ? min + 1 : above(min)) : min);
                    checked++;
                }
                if (f.numeric() && Double.isFinite(s.maximum())) {
                    double max = s.maximum();
                    refused(m, f, s.exclusiveMaximum() ? max : (f.integral() ? max + 1 : above(max)));
                    accepted(m, f, s.exclusiveMaximum() ? below(max) : max);
                    checked++;
                }
                if (s.values().length > 0) {
                    for (String v : s.values()) {
                        accepted(m, f, v);
                    }
                    refused(m, f, "no-such-" + f.name());
                    checked++;
                }
            }
        }
        assertTrue(checked > 25, "bounds checked: " + checked);
    }

    private static double below(double v) {
        return v - Math.max(1e-3, Math.abs(v) * 1e-3);
    }

    private static double above(double v) {
        return v + Math.max(1e-3, Math.abs(v) * 1e-3);
    }

    private static void refused(Method m, SettingField f, Object value) {
        InvalidSettingException e = assertThrows(InvalidSettingException.class, () -> m.defaults().with(f.name(), value),
                m.id() + ": " + f.name() + " = " + value + " must be refused");
        assertTrue(e.fields().contains(f.name()), m.id() + ": the message names " + f.name() + ": " + e.getMessage());
        assertTrue(!e.getMessage().contains("--"), "the core speaks in field names, not CLI options: " + e.getMessage());
    }

    private static void accepted(Method m, SettingField f, Object value) {
        MethodSettings s = m.defaults().with(f.name(), value);
        Object stored = f.valueIn((Record) s);
        if (value instanceof Number n) {
            assertEquals(n.doubleValue(), ((Number) stored).doubleValue(), Math.abs(n.doubleValue()) * 1e-6, m.id() + " " + f.name());
        } else {
            assertEquals(value, stored, m.id() + " " + f.name());
        }
    }

    @Test
    void aFieldOfAnotherMethodIsRefused() {
        InvalidSettingException e = assertThrows(InvalidSettingException.class, () -> Method.MNEMONIC.defaults().with("alpha", 2));
        assertTrue(e.getMessage().contains("alpha") && e.getMessage().contains("lambda1"), e.getMessage());
    }

    @Test
    void messagesRenderTheFrontEndsNames() {
        InvalidSettingException e = assertThrows(InvalidSettingException.class, () -> Method.RFA.defaults().with("beta", -1));
        assertEquals("beta must be a non-negative number, got -1.0", e.getMessage());
        assertEquals("--rfa-beta must be a non-negative number, got -1.0", e.message(name -> "--rfa-beta"));
        e = assertThrows(InvalidSettingException.class, () -> Method.DEEPCLEAN.defaults().with("gamma", 2).with("reset_fraction", 0.1));
        assertEquals(List.of("gamma", "reset_fraction"), e.fields());
        assertEquals("give 'gamma' or 'reset_fraction', not both", e.message(n -> "'" + n + "'"));
    }

    @Test
    void methodsThatOnlyTrainNeedAnEpoch() {
        List<String> refused = new ArrayList<>();
        for (Method m : Method.values()) {
            if (m.defaults().training() == null) {
                continue;
            }
            ForgetRequest r = ForgetRequest.of("fashion-mnist", ForgetSet.classes(1)).method(m).set("epochs", 0);
            try {
                r.validate();
                assertTrue(!m.trainsOnly(), m.id() + " does nothing but train: zero epochs must be refused");
            } catch (InvalidSettingException e) {
                assertEquals(List.of("epochs"), e.fields());
                assertTrue(m.trainsOnly(), m.id() + " does more than train: zero epochs are allowed");
                refused.add(m.id());
            }
        }
        assertTrue(refused.containsAll(List.of("rfa", "finetune", "neggrad", "retrain")), refused.toString());
        assertTrue(!refused.contains("deepclean"), "deepclean may skip its fine-tuning");
    }

    @Test
    void theSettingsDescribeThemselvesForTheReport() {
        ForgetRequest r = ForgetRequest.of("fashion-mnist", ForgetSet.classes(1)).method(Method.LFSSD).set("alpha", 2);
        assertEquals("{estimator=label-free, batch_size=64, alpha=2.0, lambda=1.0}", r.describeSettings().toString());
        r.set("alpha", "auto");
        assertEquals("{estimator=label-free, batch_size=64, alpha=auto, lambda=1.0, target_forget_acc=chance level,"
                + " max_retain_drop=0.02, holdout_fraction=0.2}", r.describeSettings().toString());
        r = ForgetRequest.of("fashion-mnist", ForgetSet.classes(1)).method(Method.MNEMONIC);
        assertEquals("{lambda1=0.001, lambda2=10.0, unreached=keep, scope=all}", r.describeSettings().toString());
        r = ForgetRequest.of("fashion-mnist", ForgetSet.classes(1)).method(Method.NEGGRAD).seed(3);
        assertEquals("{forget_weight=1.0, max_grad_norm=1.0, forget_loss_ceiling=ln(classes) + 1, max_retain_loss_increase=0.5,"
                + " epochs=1, lr=0.01, train_batch_size=128, momentum=0.9, weight_decay=5.0E-4, seed=3}",
                r.describeSettings().toString());
        assertEquals(0f, ((MethodSettings.DeepClean) Method.DEEPCLEAN.defaults()).training().weightDecay(),
                "DeepClean fine-tunes weights it has just reset to zero: decay would only pull them back");
    }

    @SuppressWarnings("deprecation")
    @Test
    void theOldNameOfTheStoredFullImportanceStillWorks() {
        var file = java.nio.file.Path.of("full.safetensors");
        assertEquals(file, ForgetRequest.of("fashion-mnist", ForgetSet.classes(1)).retainImportance(file).importanceFull());
    }
}
