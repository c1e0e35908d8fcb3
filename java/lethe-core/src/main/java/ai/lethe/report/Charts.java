package ai.lethe.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import javax.imageio.ImageIO;

import ai.lethe.io.AtomicFiles;

/** Small PNG charts for the HTML reports, drawn with headless Java2D. */
public final class Charts {

    /** One coloured series of a grouped bar chart; null values are left out. */
    public record Series(String name, Color color, Double[] values) {
    }

    public static final Color RED = new Color(214, 39, 40);
    public static final Color BLUE = new Color(31, 119, 180);
    public static final Color GREY = new Color(127, 127, 127);
    public static final Color GREEN = new Color(44, 160, 44);

    private Charts() {
    }

    private static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 11);

    /**
     * Grouped bars, one group per label. {@code max} is the top of the axis (for example 1 for fractions),
     * {@code percent} labels the axis in %.
     */
    public static BufferedImage bars(String title, List<String> labels, List<Series> series, double max, boolean percent) {
        System.setProperty("java.awt.headless", "true");
        int groups = labels.size();
        // Wide enough that every label fits on one of two alternating rows (at most 1600 px; longer ones are cut).
        int longest = 0;
        Graphics2D probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
        probe.setFont(LABEL_FONT);
        for (String l : labels) {
            longest = Math.max(longest, probe.getFontMetrics().stringWidth(l));
        }
        probe.dispose();
        int width = Math.min(1600, Math.max(Math.max(640, (30 + 26 * series.size()) * groups + 120), (longest + 16) / 2 * groups + 90));
        int height = 440;
        int left = 70;
        int top = 50;
        int bottom = 90;
        int plotH = height - top - bottom;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(img, title);
        double top5 = max > 0 ? max : 1;
        for (int k = 0; k <= 4; k++) {
            double v = top5 * k / 4;
            int y = top + plotH - (int) Math.round(plotH * k / 4.0);
            g.setColor(new Color(230, 230, 230));
            g.drawLine(left, y, width - 20, y);
            g.setColor(Color.DARK_GRAY);
            g.drawString(percent ? String.format(Locale.ROOT, "%.0f%%", v * 100) : String.format(Locale.ROOT, "%.3g", v), 10, y + 4);
        }
        int groupW = (width - left - 20) / Math.max(1, groups);
        int barW = Math.max(4, (groupW - 14) / Math.max(1, series.size()));
        // Labels that do not fit under their own bars go on two alternating rows, each then twice as wide.
        FontMetrics fm = g.getFontMetrics();
        boolean stagger = groups > 10 || labels.stream().anyMatch(l -> fm.stringWidth(l) > groupW - 6);
        int labelW = stagger ? 2 * groupW - 10 : groupW - 6;
        for (int i = 0; i < groups; i++) {
            int x0 = left + i * groupW + 7;
            for (int k = 0; k < series.size(); k++) {
                Double v = series.get(k).values()[i];
                if (v == null) {
                    continue;
                }
                int h = (int) Math.round(plotH * Math.max(0, Math.min(1, v / top5)));
                g.setColor(series.get(k).color());
                g.fillRect(x0 + k * barW, top + plotH - h, Math.max(2, barW - 2), h);
            }
            g.setColor(Color.DARK_GRAY);
            String label = labels.get(i);
            g.drawString(fit(label, fm, labelW), x0, top + plotH + 16 + (stagger && i % 2 == 1 ? 14 : 0));
        }
        g.drawLine(left, top + plotH, width - 20, top + plotH);
        legend(g, series, left, height - 26);
        g.dispose();
        return img;
    }

    /** The label, shortened with an ellipsis to at most {@code maxWidth} pixels. */
    static String fit(String label, FontMetrics fm, int maxWidth) {
        if (fm.stringWidth(label) <= maxWidth) {
            return label;
        }
        String ellipsis = fm.getFont().canDisplay('\u2026') ? "\u2026" : "...";
        int n = label.length();
        while (n > 0 && fm.stringWidth(label.substring(0, n) + ellipsis) > maxWidth) {
            n--;
        }
        return label.substring(0, n) + ellipsis;
    }

    /** A histogram: counts per bin, bins labelled by their lower edge. */
    public static BufferedImage histogram(String title, String axis, double[] edges, long[] counts) {
        Double[] v = new Double[counts.length];
        long max = 1;
        for (long c : counts) {
            max = Math.max(max, c);
        }
        String[] labels = new String[counts.length];
        for (int i = 0; i < counts.length; i++) {
            v[i] = (double) counts[i];
            labels[i] = i % 4 == 0 ? String.format(Locale.ROOT, "%.1f", edges[i]) : "";
        }
        BufferedImage img = bars(title, List.of(labels), List.of(new Series(axis, BLUE, v)), max, false);
        return img;
    }

    public static void writePng(BufferedImage img, Path path) throws IOException {
        AtomicFiles.write(path, (AtomicFiles.StreamWriter) out -> ImageIO.write(img, "png", out));
    }

    private static Graphics2D canvas(BufferedImage img, String title) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.DARK_GRAY);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, 70, 24);
        g.setFont(LABEL_FONT);
        return g;
    }

    private static void legend(Graphics2D g, List<Series> series, int x, int y) {
        for (int k = 0; k < series.size(); k++) {
            g.setColor(series.get(k).color());
            g.fillRect(x + k * 170, y - 10, 12, 12);
            g.setColor(Color.DARK_GRAY);
            g.drawString(series.get(k).name(), x + k * 170 + 18, y);
        }
    }
}
