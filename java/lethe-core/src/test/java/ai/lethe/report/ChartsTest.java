package ai.lethe.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChartsTest {

    @Test
    void labelsAreShortenedToTheirWidthWithAnEllipsis() {
        System.setProperty("java.awt.headless", "true");
        Graphics2D g = new BufferedImage(10, 10, BufferedImage.TYPE_INT_RGB).createGraphics();
        FontMetrics fm = g.getFontMetrics();
        assertEquals("forward", Charts.fit("forward", fm, 200));
        String long_ = "read/decode (lethe-prefetch)";
        String fitted = Charts.fit(long_, fm, 80);
        assertNotEquals(long_, fitted);
        assertTrue(fm.stringWidth(fitted) <= 80, fitted + " is " + fm.stringWidth(fitted) + " px");
        assertTrue(fitted.startsWith("read/"), fitted);
        assertTrue(fitted.endsWith("\u2026") || fitted.endsWith("..."), fitted);
        g.dispose();
    }

    @Test
    void aChartWithLongLabelsIsDrawn() {
        BufferedImage img = Charts.bars("phases", List.of("read/decode (lethe-prefetch)", "evaluate/forward", "forward"),
                List.of(new Charts.Series("self ms", Charts.BLUE, new Double[] {80.0, 1950.0, 560.0})), 1950, false);
        assertTrue(img.getWidth() >= 640 && img.getHeight() > 0);
    }
}
