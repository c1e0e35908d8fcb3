package ai.lethe.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The geometry the direct per-sample kernel trusts: sizes that cannot describe a convolution are refused. */
class ConvGeometryTest {

    @Test
    void outputSizesFollowFromWindowStrideAndPadding() {
        assertEquals(28, ConvGeometry.outSize(28, 3, 1, 1));
        assertEquals(16, ConvGeometry.outSize(32, 3, 2, 1));
        assertEquals(4, ConvGeometry.outSize(8, 1, 2, 0));
        assertEquals(0, ConvGeometry.outSize(2, 5, 1, 0), "a window larger than the padded input has no output");
        ConvGeometry c = new ConvGeometry(3, 5, 9, 9, 33, 5, 5, 3, 2, 1);
        assertEquals(33L * 5 * 9, c.weightSize());
        assertEquals(3L * 9 * 9 * 5, c.inputSize());
        assertEquals(3L * 5 * 5 * 33, c.outputSize());
        // window row 0 with padding 1 first lands inside at output row 1 (input row 1·2 − 1 + 0 = 1)
        assertEquals(1, c.firstOutput(0));
        assertEquals(0, c.firstOutput(1));
        assertEquals(5, c.endOutput(1, 9, 5));
        assertEquals(4, c.endOutput(2, 9, 5), "output row 4 would read input row 4·2 − 1 + 2 = 9, past the input");
    }

    @Test
    void sizesThatAreNotAConvolutionAreRefused() {
        String[] expected = {"negative size", "negative size", "kernel/stride below 1", "kernel/stride below 1",
            "negative size", "does not follow", "does not follow"};
        Runnable[] bad = {
            () -> new ConvGeometry(-1, 1, 4, 4, 1, 4, 4, 1, 1, 0),
            () -> new ConvGeometry(1, 1, -4, 4, 1, 4, 4, 1, 1, 0),
            () -> new ConvGeometry(1, 1, 4, 4, 1, 4, 4, 0, 1, 0),
            () -> new ConvGeometry(1, 1, 4, 4, 1, 4, 4, 1, 0, 0),
            () -> new ConvGeometry(1, 1, 4, 4, 1, 4, 4, 1, 1, -1),
            () -> new ConvGeometry(1, 1, 4, 4, 1, 3, 4, 1, 1, 0),
            () -> new ConvGeometry(1, 1, 4, 4, 1, 4, 2, 3, 1, 1),
        };
        for (int i = 0; i < bad.length; i++) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, bad[i]::run, "case " + i);
            assertTrue(e.getMessage().contains(expected[i]), e.getMessage());
            assertTrue(e.getMessage().startsWith("convolution geometry:"), e.getMessage());
        }
    }
}
