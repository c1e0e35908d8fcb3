package ai.lethe.fuzz;

import java.nio.file.Path;

import com.code_intelligence.jazzer.junit.FuzzTest;

import ai.lethe.data.NpyDataset;

/** A pair of .npy files (images, labels): open, read every label and sample, seek. */
class NpyFuzzTest {

    @FuzzTest(maxDuration = FuzzBudget.CI)
    void imagesAndLabels(byte[] input) {
        fuzzerTestOneInput(input);
    }

    public static void fuzzerTestOneInput(byte[] input) {
        byte[][] files = FuzzSupport.split(input);
        Path x = FuzzSupport.write("train_x.npy", files[0]);
        Path y = FuzzSupport.write("train_y.npy", files[1]);
        FuzzSupport.expectResultOrFormatError(input.length, () -> FuzzSupport.readAll(NpyDataset.open("fuzz", x, y)));
    }
}
