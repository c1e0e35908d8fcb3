package ai.lethe.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;

import org.junit.jupiter.api.Test;

import ai.lethe.data.Batch;
import ai.lethe.data.BatchStream;
import ai.lethe.data.DataSource;
import ai.lethe.kernels.HostTensors;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.ScalarKernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.kernels.VectorKernels;
import ai.lethe.model.zoo.ZooConfig;
import ai.lethe.model.zoo.ZooModel;
import ai.lethe.testing.Fixtures;

/** The model ↔ kernels boundary on the CPU: the host-copy binding, placement refused without a usable GPU. */
class TensorBindingTest {

    @Test
    void theHostBindingShowsTheParametersAndGradientsAndWritesChangesBack() throws IOException {
        DataSource d = Fixtures.fashionMnist(64);
        try (Model model = TorchScriptModel.load(Fixtures.cnnModel()); Kernels kernels = new VectorKernels();
             BatchStream s = BatchStream.all(d.train(), d.train().labels(), 32)) {
            float[][] before = model.readParameters();
            Batch b = s.next();
            model.backward(b, Loss.CROSS_ENTROPY);
            float[][] grads = model.readParameters();
            model.gradients(grads);
            try (TensorBinding binding = model.bind(kernels)) {
                assertFalse(binding.isView(), "a CPU model is bound by copies");
                TensorList p = binding.parameters();
                TensorList g = binding.gradients();
                for (int t = 0; t < before.length; t++) {
                    assertArrayEquals(before[t], ((HostTensors) p).array(t), "parameter " + t);
                    assertArrayEquals(grads[t], ((HostTensors) g).array(t), "gradient " + t);
                }
                kernels.scale(p, 2f);
                assertArrayEquals(before[0], model.readParameters()[0], "nothing reaches the model before pushParameters");
                binding.pushParameters();
            }
            float[][] after = model.readParameters();
            for (int t = 0; t < before.length; t++) {
                for (int j = 0; j < before[t].length; j++) {
                    assertEquals(2f * before[t][j], after[t][j], "parameter " + t + "[" + j + "]");
                }
            }
        }
    }

    @Test
    void aZooModelBindsTheSameWayAndItsReplicaIsAnIndependentCopy() {
        try (ZooModel model = ZooModel.create("mlp", ZooConfig.defaults(1, 28, 10), 5); Kernels kernels = new ScalarKernels()) {
            float[][] before = model.readParameters();
            try (ZooModel copy = model.replicate()) {
                assertEquals(model.fingerprint(), copy.fingerprint(), "same parameters and buffers");
                try (TensorBinding binding = copy.bind(kernels)) {
                    kernels.fill(binding.parameters(), 0f);
                    binding.pushParameters();
                }
                assertEquals(0f, copy.readParameters()[0][0]);
            }
            assertArrayEquals(before[0], model.readParameters()[0], "changing the replica leaves the original alone");
        }
    }

    @Test
    void placingAModelOnAGpuThatLibtorchCannotUseIsOneClearLine() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeFalse(Libtorch.cudaAvailable(), "libtorch sees a GPU here");
        try (Model model = TorchScriptModel.load(Fixtures.cnnModel())) {
            ModelException e = assertThrows(ModelException.class, () -> model.toCuda(0));
            assertTrue(e.getMessage().startsWith("libtorch cannot use a GPU here: "), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertEquals("cpu", model.placement(), "a refused move leaves the model where it was");
        }
    }
}
