package ai.lethe.kernels;

import ai.lethe.kernels.check.KernelChecks;

/**
 * Run in a child JVM by {@link VectorFallbackTest}: opens the vector back end the way programs do (twice through
 * {@link Backends}, once as a library user would, with {@code new VectorKernels()}, to show the fallback warns
 * once), prints what it got, then runs every kernel check against the reference on the opened and on the
 * directly constructed back end, and the pooled-convolution and head checks on the latter, and prints how many
 * failed.
 */
public final class VectorApiProbe {

    private VectorApiProbe() {
    }

    public static void main(String[] args) {
        int failed = 0;
        try (Kernels first = Backends.open("vector"); Kernels second = Backends.open("cpu");
             VectorKernels direct = new VectorKernels(); ScalarKernels reference = new ScalarKernels()) {
            System.out.println("backends: " + first.name() + " " + second.name());
            System.out.println("description: " + first.description());
            System.out.println("direct: " + direct.name() + ", " + direct.threads() + " threads");
            System.out.println("direct description: " + direct.description());
            for (Kernels k : new Kernels[] {first, direct}) {
                for (KernelChecks.Check c : KernelChecks.forBackend(k, false)) {
                    try {
                        c.run(k, reference);
                    } catch (RuntimeException | AssertionError e) {
                        failed++;
                        System.out.println("FAILED " + c.name() + " on " + k.description() + ": " + e.getMessage());
                    }
                }
            }
            for (String f : PooledConvKernelsTest.failures(direct.pooledConv())) {
                failed++;
                System.out.println("FAILED pooled convolution " + f);
            }
            for (String f : HeadKernelsTest.failures(direct.pooledConv().head())) {
                failed++;
                System.out.println("FAILED head " + f);
            }
        }
        System.out.println("failed: " + failed);
    }
}
