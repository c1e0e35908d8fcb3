package ai.lethe.kernels;

import ai.lethe.kernels.check.KernelChecks;

/**
 * Run in a child JVM by {@link VectorFallbackTest}: opens the vector back end the way programs do (twice, to
 * show the fallback warns once), prints what it got, then runs every kernel check against the reference and
 * prints how many failed.
 */
public final class VectorApiProbe {

    private VectorApiProbe() {
    }

    public static void main(String[] args) {
        int failed = 0;
        try (Kernels first = Backends.open("vector"); Kernels second = Backends.open("cpu"); ScalarKernels reference = new ScalarKernels()) {
            System.out.println("backends: " + first.name() + " " + second.name());
            System.out.println("description: " + first.description());
            for (KernelChecks.Check c : KernelChecks.forBackend(first, false)) {
                try {
                    c.run(first, reference);
                } catch (RuntimeException | AssertionError e) {
                    failed++;
                    System.out.println("FAILED " + c.name() + ": " + e.getMessage());
                }
            }
        }
        System.out.println("failed: " + failed);
    }
}
