package ai.lethe;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The one line that says where the work runs when it is not where the user would expect. */
class PlacementNoteTest {

    @Test
    void gpuKernelsBesideACpuLibtorchSayThatGradientsCrossHostMemory() {
        String note = Lethe.placementNote("cpu", false, true);
        assertTrue(note.contains("model on the host") && note.contains("-Dlethe.torch=gpu"), note);
    }

    @Test
    void aCudaBuildWithoutADriverRunsOnTheCpuWithANote() {
        String note = Lethe.placementNote("cuda", false, false);
        assertTrue(note.contains("CUDA build found no usable GPU") && note.contains("running on the CPU"), note);
    }

    @Test
    void nothingToSayWhenTheWorkIsWhereItShouldBe() {
        assertNull(Lethe.placementNote("cuda", true, true), "model and kernels on the GPU");
        assertNull(Lethe.placementNote("cpu", false, false), "the CPU build on the CPU");
    }
}
