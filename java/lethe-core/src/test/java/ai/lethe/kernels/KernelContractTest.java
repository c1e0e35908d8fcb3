package ai.lethe.kernels;

import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

import ai.lethe.kernels.check.KernelChecks;

/**
 * Every kernel of one back end against {@link ScalarKernels}: the checks of {@link KernelChecks} (odd sizes,
 * mixed lists, special values, the spec's per-element rules; tolerances are documented there), one dynamic
 * test each. {@code lethe selftest} runs the same checks, with ResNet-18's parameter list added.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class KernelContractTest {

    protected final ScalarKernels reference = new ScalarKernels();
    protected Kernels kernels;

    /** The back end under test; called once per test class. */
    protected abstract Kernels createKernels();

    @BeforeAll
    void open() {
        kernels = createKernels();
    }

    @AfterAll
    void close() {
        if (kernels != null) {
            kernels.close();
        }
    }

    @TestFactory
    Stream<DynamicTest> everyKernelAgreesWithTheReference() {
        return KernelChecks.forBackend(kernels, false).stream()
                .map(c -> DynamicTest.dynamicTest(c.name(), () -> c.run(kernels, reference)));
    }
}
