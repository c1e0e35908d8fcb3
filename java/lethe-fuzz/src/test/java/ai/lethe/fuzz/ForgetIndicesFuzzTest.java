package ai.lethe.fuzz;

import java.nio.file.Path;

import com.code_intelligence.jazzer.junit.FuzzTest;

import ai.lethe.data.ForgetSet;

/** A --forget-indices file, read and resolved against a training set of 100 samples of 10 classes. */
class ForgetIndicesFuzzTest {

    private static final int[] LABELS = new int[100];

    static {
        for (int i = 0; i < LABELS.length; i++) {
            LABELS[i] = i % 10;
        }
    }

    @FuzzTest(maxDuration = FuzzBudget.CI)
    void readAndResolve(byte[] input) {
        fuzzerTestOneInput(input);
    }

    public static void fuzzerTestOneInput(byte[] input) {
        Path file = FuzzSupport.write("delete-me.txt", input);
        FuzzSupport.expectResultOrFormatError(input.length, () -> {
            ForgetSet s = ForgetSet.indicesFile(file);
            s.toString();
            s.resolve(LABELS, 10);
        });
    }
}
