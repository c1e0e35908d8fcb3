package ai.lethe.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import ai.lethe.bench.SyntheticBatches;
import ai.lethe.importance.Estimator;
import ai.lethe.importance.Importance;
import ai.lethe.importance.ImportanceEstimator;
import ai.lethe.importance.NonFiniteGradientException;
import ai.lethe.importance.Provenance;
import ai.lethe.importance.Workers;
import ai.lethe.kernels.Backends;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.kernels.VectorKernels;
import ai.lethe.kernels.cuda.CudaKernels;
import ai.lethe.kernels.cuda.RequiresCudaDevice;
import ai.lethe.method.SsdDampening;
import ai.lethe.model.Libtorch;
import ai.lethe.model.ModelException;
import ai.lethe.model.TensorBinding;
import ai.lethe.model.zoo.ZooConfig;
import ai.lethe.model.zoo.ZooModel;

/**
 * The whole pipeline on a GPU (model, gradients, importances and update on the device) against the same pipeline on
 * the CPU. Runs where a CUDA device and libtorch's CUDA build are present (the GPU kit runs it with JUnit's console
 * launcher); visibly skipped elsewhere. Tolerances: cuDNN's convolutions and libtorch's CPU ones sum in different
 * orders, so importances agree to 1e-4 relative per tensor sum and 1e-3·max per element.
 */
@ExtendWith(RequiresCudaDevice.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaPipelineTest {

    static final int[] SHAPE = {1, 28, 28};

    CudaKernels cuda;
    Kernels cpu;
    SyntheticBatches data;

    @BeforeAll
    void open() {
        Assumptions.assumeTrue(Libtorch.cudaAvailable(), "skipped: libtorch here is its " + Libtorch.build() + " build without a usable GPU");
        cuda = new CudaKernels(0);
        cpu = new VectorKernels();
        data = new SyntheticBatches(SHAPE, 10, 7);
    }

    @AfterAll
    void close() {
        if (cuda != null) {
            cuda.close();
            cpu.close();
        }
    }

    private static ZooModel cnn() {
        return ZooModel.create("cnn", ZooConfig.defaults(1, 28, 10), 11);
    }

    private Importance pass(ZooModel model, Kernels k, Workers w, int samples) {
        int[] all = IntStream.range(0, samples).toArray();
        Provenance p = new Provenance(model.fingerprint(), Estimator.BATCH, 64, "synthetic", "full", "file", "");
        return new ImportanceEstimator(Estimator.BATCH, k, null).workers(w).estimate(model, data.batches(all, 64), 0, "test", p);
    }

    private static void assertClose(Importance expected, Importance actual, double tensorSumRtol) {
        float[][] a = expected.values();
        float[][] b = actual.values();
        for (int t = 0; t < a.length; t++) {
            double sa = 0;
            double sb = 0;
            double max = 0;
            for (int j = 0; j < a[t].length; j++) {
                sa += a[t][j];
                sb += b[t][j];
                max = Math.max(max, Math.abs(a[t][j]));
            }
            assertTrue(Math.abs(sa - sb) <= tensorSumRtol * Math.abs(sa), "tensor " + t + " sums: " + sa + " vs " + sb);
            for (int j = 0; j < a[t].length; j++) {
                assertTrue(Math.abs(a[t][j] - b[t][j]) <= 1e-3 * max, "tensor " + t + " element " + j + ": " + a[t][j] + " vs " + b[t][j]);
            }
        }
    }

    @Test
    void theModelOnTheGpuGivesTheCpuImportancesThroughAViewBinding() {
        try (ZooModel onCpu = cnn(); ZooModel onGpu = cnn()) {
            onGpu.toCuda(0);
            assertEquals("cuda:0", onGpu.placement());
            try (TensorBinding b = onGpu.bind(cuda)) {
                assertTrue(b.isView(), "a model on the kernels' GPU is bound by views, not copies");
            }
            assertClose(pass(onCpu, cpu, Workers.ONE, 640), pass(onGpu, cuda, Workers.ONE, 640), 1e-4);
            assertEquals(onCpu.fingerprint(), onGpu.fingerprint(), "the passes leave the parameters alone");
        }
    }

    @Test
    void fourWorkersOnTheGpuEqualOneUpToSummationOrder() {
        try (ZooModel model = cnn()) {
            model.toCuda(0);
            Importance one = pass(model, cuda, Workers.ONE, 1280);
            Importance four = pass(model, cuda, new Workers(4, new int[] {0}), 1280);
            assertEquals(one.count(), four.count());
            assertClose(one, four, 1e-5);
        }
    }

    @Test
    void theSameDeviceNamedTwiceRunsTwoWorkersOnIt() {
        int[] devices = Backends.cudaDevices("cuda:0,0");
        assertEquals(2, devices.length);
        try (ZooModel model = cnn()) {
            model.toCuda(0);
            assertClose(pass(model, cuda, Workers.ONE, 640), pass(model, cuda, new Workers(2, devices), 640), 1e-5);
        }
    }

    @Test
    void dampeningOnTheGpuSelectsWhatTheCpuSelects() {
        try (ZooModel onCpu = cnn(); ZooModel onGpu = cnn()) {
            onGpu.toCuda(0);
            Importance dCpu = pass(onCpu, cpu, Workers.ONE, 640);
            int[] forget = IntStream.range(0, 640).filter(i -> i % 10 == 0).toArray();
            Provenance p = new Provenance(onCpu.fingerprint(), Estimator.BATCH, 64, "synthetic", "forget", "file", "");
            Importance fCpu = new ImportanceEstimator(Estimator.BATCH, cpu, null).estimate(onCpu, data.batches(forget, 64), 0, "f", p);
            // the same importances on both sides, so the selection rule alone is compared
            long onHost = SsdDampening.apply(onCpu, dCpu.values(), fCpu.values(), 2f, 1f, cpu).selected();
            long onDevice = SsdDampening.apply(onGpu, dCpu.values(), fCpu.values(), 2f, 1f, cuda).selected();
            assertEquals(onHost, onDevice);
            assertTrue(onHost > 0, "alpha 2 selects something on random data");
            assertEquals(onCpu.fingerprint(), onGpu.fingerprint(), "the dampened parameters agree bit for bit");
        }
    }

    @Test
    void importancesStayOnTheGpuAndNormaliseThereAsTheHostDivides() {
        try (ZooModel model = cnn()) {
            model.toCuda(0);
            Provenance p = new Provenance(model.fingerprint(), Estimator.BATCH, 64, "synthetic", "full", "file", "");
            Importance resident = new ImportanceEstimator(Estimator.BATCH, cuda, null).resident(true)
                    .estimate(model, data.batches(IntStream.range(0, 640).toArray(), 64), 0, "resident", p);
            assertTrue(resident.residentOn(cuda), "the sums stay in device memory after the pass");
            try (TensorList onDevice = resident.valuesOn(cuda)) {
                float[][] normalised = cuda.download(onDevice);
                float[][] values = resident.values(); // downloads the sums and divides on the host
                for (int t = 0; t < values.length; t++) {
                    assertArrayEquals(values[t], normalised[t], 0f, "tensor " + t + ": the divide kernel is the host's division");
                }
            }
            resident.toHost();
            assertFalse(resident.residentOn(cuda));
        }
    }

    @Test
    void aDataSetPlacedOnTheGpuGivesTheStreamedLogits() throws java.io.IOException {
        // Fashion-MNIST where Debian puts it, or where the GPU kit carries it (gpu-e2e.sh sets lethe.test.data)
        ai.lethe.data.Dataset files = ai.lethe.data.DataSource.open(System.getProperty("lethe.test.data", "fashion-mnist"), 300)
                .train();
        int[] labels = files.labels();
        try (ZooModel model = cnn()) {
            model.toCuda(0);
            try (ai.lethe.model.DeviceDataset placed = ai.lethe.model.DeviceDataset.place(files, model, null)) {
                assertEquals("cuda:0", placed.device());
                java.util.List<java.util.function.IntPredicate> passes = java.util.List.of(i -> labels[i] != 1, i -> labels[i] == 1);
                try (ai.lethe.data.BatchStream a = ai.lethe.data.BatchStream.passes(files, labels, 65, passes);
                     ai.lethe.data.BatchStream b = ai.lethe.data.BatchStream.passes(placed, labels, 65, passes)) {
                    while (a.hasNext()) {
                        ai.lethe.data.Batch resident = b.next();
                        assertTrue(resident.resident());
                        assertArrayEquals(model.logits(a.next()), model.logits(resident), 0f);
                    }
                    assertFalse(b.hasNext());
                }
            }
        }
    }

    @Test
    void sgdStepsAGpuModelInItsOwnMemoryAsTheCpuSteps() {
        try (ZooModel onCpu = cnn(); ZooModel onGpu = cnn()) {
            onGpu.toCuda(0);
            try (ai.lethe.train.Sgd a = new ai.lethe.train.Sgd(onCpu, cpu, 0.9f, 5e-4f, null);
                 ai.lethe.train.Sgd b = new ai.lethe.train.Sgd(onGpu, cuda, 0.9f, 5e-4f, null)) {
                java.util.Iterator<ai.lethe.data.Batch> batches = data.batches(IntStream.range(0, 192).toArray(), 64);
                while (batches.hasNext()) {
                    ai.lethe.data.Batch batch = batches.next();
                    onCpu.backward(batch, ai.lethe.model.Loss.CROSS_ENTROPY);
                    a.step(0.05f);
                    onGpu.backward(batch, ai.lethe.model.Loss.CROSS_ENTROPY);
                    b.step(0.05f);
                }
            }
            try (TensorBinding binding = onGpu.bind(cuda)) {
                assertTrue(binding.isView(), "the optimiser's binding of a model on the kernels' GPU is a view");
            }
            float[][] p = onCpu.readParameters();
            float[][] q = onGpu.readParameters();
            for (int t = 0; t < p.length; t++) {
                for (int j = 0; j < p[t].length; j++) {
                    assertEquals(p[t][j], q[t][j], 1e-4 + 1e-3 * Math.abs(p[t][j]), "parameter " + t + "[" + j + "]");
                }
            }
        }
    }

    /**
     * The per-sample fast path with the model on the GPU: every convolution's products go to the fused CUDA kernel,
     * which reads libtorch's tensors in place, and the sums stay on the device; it must give the CPU's fast path and
     * the GPU's own one-sample loop. resnet18-cifar (width 8) has no max-pool, so cuDNN's rounding picks no other
     * winners than the CPU's.
     */
    @Test
    void perSampleSumsOnTheGpuComeFromTheFusedKernelAndEqualTheCpuAndTheLoop() {
        ZooConfig c = ZooConfig.defaults(1, 28, 10).withWidth(8);
        try (ZooModel onCpu = ZooModel.create("resnet18-cifar", c, 3); ZooModel onGpu = ZooModel.create("resnet18-cifar", c, 3)) {
            onGpu.toCuda(0);
            int[] samples = IntStream.range(0, 65).toArray();
            Importance cpuFast = perSample(onCpu, cpu, samples, null);
            Importance gpuFast = perSample(onGpu, cuda, samples, null);
            Importance gpuLoop = perSample(onGpu, cuda, samples, ai.lethe.model.PerSamplePath.LOOP);
            assertTrue(gpuFast.computation().startsWith("per-sample batched"), gpuFast.computation());
            assertClose(cpuFast, gpuFast, 1e-4);
            assertClose(gpuLoop, gpuFast, 1e-4);
        }
    }

    private Importance perSample(ZooModel model, Kernels k, int[] samples, ai.lethe.model.PerSamplePath path) {
        Provenance p = new Provenance(model.fingerprint(), Estimator.PER_SAMPLE, 32, "synthetic", "full", "file", "");
        return new ImportanceEstimator(Estimator.PER_SAMPLE, k, null).perSamplePath(path).estimate(model, data.batches(samples, 32), 0,
                "test", p);
    }

    @Test
    void nonFiniteGradientsOnTheGpuAreCountedByTheKernelAndStopThePass() {
        try (ZooModel model = cnn()) {
            model.toCuda(0);
            SyntheticBatches huge = new SyntheticBatches(SHAPE, 10, 3) {
                @Override
                public float value(long i, int j) {
                    return Float.MAX_VALUE; // the forward pass overflows: the data is valid, the gradient is not
                }
            };
            Provenance p = new Provenance(model.fingerprint(), Estimator.BATCH, 64, "huge", "full", "file", "");
            NonFiniteGradientException e = assertThrows(NonFiniteGradientException.class, () -> new ImportanceEstimator(Estimator.BATCH,
                    cuda, null).estimate(model, huge.batches(IntStream.range(0, 128).toArray(), 64), 0, "huge", p));
            assertTrue(e.getMessage().contains("NaN/Inf"), e.getMessage());
        }
    }

    @Test
    void aDeviceThatDoesNotExistIsAUsageError() {
        assertThrows(ai.lethe.InvalidSettingException.class, () -> Backends.cudaDevices("cuda:0,99"));
    }

    @Test
    void outOfMemoryNamesTheBatchSize() {
        try (ZooModel model = ZooModel.create("resnet18-cifar", new ZooConfig(3, 32, 10, 64, 64), 1)) {
            model.toCuda(0);
            SyntheticBatches big = new SyntheticBatches(new int[] {3, 32, 32}, 10, 1);
            ModelException e = assertThrows(ModelException.class,
                    () -> model.backward(big.batch(IntStream.range(0, 60000).toArray()), ai.lethe.model.Loss.CROSS_ENTROPY));
            assertTrue(e.getMessage().startsWith("CUDA out of memory with a batch of 60000 samples"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
    }
}
