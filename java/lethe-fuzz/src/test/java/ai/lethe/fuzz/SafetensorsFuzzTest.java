package ai.lethe.fuzz;

import java.nio.file.Path;

import com.code_intelligence.jazzer.junit.FuzzTest;

import ai.lethe.data.SafetensorsDataset;
import ai.lethe.io.SafetensorsFile;

/**
 * A safetensors file: the header and every tensor read back as floats and as integers (as model weights and
 * importances are read), then the same file as a dataset (tensors x and y).
 */
class SafetensorsFuzzTest {

    @FuzzTest(maxDuration = FuzzBudget.CI)
    void tensorsAndDataset(byte[] input) {
        fuzzerTestOneInput(input);
    }

    public static void fuzzerTestOneInput(byte[] input) {
        Path file = FuzzSupport.write("train.safetensors", input);
        FuzzSupport.expectResultOrFormatError(input.length, () -> {
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                f.metadata().forEach((k, v) -> {
                });
                for (SafetensorsFile.Entry e : f.entries()) {
                    readEntry(f, e);
                }
            }
        });
        FuzzSupport.expectResultOrFormatError(input.length, () -> FuzzSupport.readAll(SafetensorsDataset.open("fuzz", file)));
    }

    private static void readEntry(SafetensorsFile f, SafetensorsFile.Entry e) throws java.io.IOException {
        boolean floating = switch (e.dtype()) {
            case "F32", "F64", "F16", "BF16", "U8" -> true;
            default -> false;
        };
        boolean integer = switch (e.dtype()) {
            case "I64", "U64", "I32", "U32", "I16", "U16", "I8", "U8" -> true;
            default -> false;
        };
        if (floating) {
            f.readFloats(e.name());
        }
        if (integer && e.numel() <= Integer.MAX_VALUE) {
            int n = (int) e.numel();
            f.readLongs(e.name(), 0, new long[n], 0, n);
        }
    }
}
