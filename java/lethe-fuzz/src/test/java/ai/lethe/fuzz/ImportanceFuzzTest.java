package ai.lethe.fuzz;

import java.nio.file.Path;

import com.code_intelligence.jazzer.junit.FuzzTest;

import ai.lethe.importance.Importance;

/** An importance file as --retain-importance and the service load it: header, provenance metadata, every value. */
class ImportanceFuzzTest {

    @FuzzTest(maxDuration = FuzzBudget.CI)
    void load(byte[] input) {
        fuzzerTestOneInput(input);
    }

    public static void fuzzerTestOneInput(byte[] input) {
        Path file = FuzzSupport.write("importance.safetensors", input);
        FuzzSupport.expectResultOrFormatError(input.length, () -> {
            Importance imp = Importance.load(file);
            imp.values();
        });
    }
}
