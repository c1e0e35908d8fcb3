package ai.lethe.report;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;

import ai.lethe.io.AtomicFiles;

/**
 * The comparison table: one row for the original model and one per method (accuracies on forget/retain
 * train/test, MIA, unlearning seconds), written as JSON, Markdown, and an HTML page with a PNG bar chart.
 */
public final class ComparisonReport {

    /** One line of the table. Accuracies and MIA are fractions; null where there were no samples. */
    public record Row(String method, Double forgetTrainAcc, Double retainTrainAcc, Double forgetTestAcc, Double retainTestAcc,
                      Double mia, Double seconds, Double changedFraction, String settings) {
    }

    private final String model;
    private final String data;
    private final String forgetSet;
    private final List<ForgetReport> reports;
    private final java.util.Map<String, String> failures;
    private final List<Row> rows = new ArrayList<>();

    /** @param failures methods that could not run, with the reason */
    public ComparisonReport(String model, String data, String forgetSet, List<ForgetReport> reports, java.util.Map<String, String> failures) {
        this.model = model;
        this.data = data;
        this.forgetSet = forgetSet;
        this.reports = List.copyOf(reports);
        this.failures = new java.util.LinkedHashMap<>(failures);
        if (!reports.isEmpty() && reports.get(0).before() != null) {
            ForgetReport.MetricsReport b = reports.get(0).before();
            rows.add(new Row("original", b.forgetTrainAcc(), b.retainTrainAcc(), b.forgetTestAcc(), b.retainTestAcc(), b.mia(), null, null, ""));
        }
        for (ForgetReport r : reports) {
            ForgetReport.MetricsReport a = r.after();
            StringBuilder s = new StringBuilder();
            r.settings().forEach((k, v) -> s.append(s.length() == 0 ? "" : ", ").append(k).append('=').append(v));
            if (r.alpha() != null && "auto".equals(String.valueOf(r.settings().get("alpha")))) {
                s.append(" → alpha=").append(r.alpha());
            }
            rows.add(new Row(r.method(), a == null ? null : a.forgetTrainAcc(), a == null ? null : a.retainTrainAcc(),
                    a == null ? null : a.forgetTestAcc(), a == null ? null : a.retainTestAcc(), a == null ? null : a.mia(),
                    r.seconds().total(), r.selectedFraction(), s.toString()));
        }
    }

    public List<Row> rows() {
        return rows;
    }

    public List<ForgetReport> reports() {
        return reports;
    }

    public java.util.Map<String, String> failures() {
        return failures;
    }

    /** The report files {@link #writeAll} puts in its directory (the methods' models go there too). */
    public static final List<String> FILES = List.of("compare.json", "compare.md", "compare.png", "compare.html");

    /** compare.json, compare.md, compare.html and compare.png in {@code dir}, each written atomically. */
    public void writeAll(Path dir) throws IOException {
        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(SerializationFeature.INDENT_OUTPUT);
        java.util.Map<String, Object> all = new java.util.LinkedHashMap<>();
        all.put("model", model);
        all.put("data", data);
        all.put("forget_set", forgetSet);
        all.put("rows", rows);
        all.put("failures", failures);
        all.put("reports", reports);
        AtomicFiles.writeString(dir.resolve("compare.json"), json.writeValueAsString(all) + "\n");
        AtomicFiles.writeString(dir.resolve("compare.md"), markdown());
        Charts.writePng(chart(), dir.resolve("compare.png"));
        AtomicFiles.writeString(dir.resolve("compare.html"), html());
    }

    /** The table as Markdown. */
    public String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("Forgetting ").append(forgetSet).append(" of ").append(data).append(", starting from ").append(model).append("\n\n");
        b.append("| method | forget-train | retain-train | forget-test | retain-test | MIA | seconds | changed |\n");
        b.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            b.append("| ").append(r.method()).append(" | ").append(pct(r.forgetTrainAcc())).append(" | ").append(pct(r.retainTrainAcc()))
                    .append(" | ").append(pct(r.forgetTestAcc())).append(" | ").append(pct(r.retainTestAcc())).append(" | ")
                    .append(pct(r.mia())).append(" | ").append(r.seconds() == null ? "" : String.format(Locale.ROOT, "%.2f", r.seconds()))
                    .append(" | ").append(r.changedFraction() == null ? "" : pct(r.changedFraction())).append(" |\n");
        }
        b.append("\nSettings: ");
        for (Row r : rows) {
            if (!r.settings().isEmpty()) {
                b.append("\n- ").append(r.method()).append(": ").append(r.settings());
            }
        }
        failures.forEach((m, why) -> b.append("\n- ").append(m).append(": did not run (").append(why).append(")"));
        return b.append("\n").toString();
    }

    private String html() {
        StringBuilder b = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Lethe comparison</title>\n"
                + "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
                + "padding:4px 10px;text-align:right}td:first-child,th:first-child{text-align:left}</style></head><body>\n");
        b.append("<h1>Forgetting ").append(escape(forgetSet)).append("</h1>\n<p>").append(escape(data)).append("; starting model ")
                .append(escape(model)).append("</p>\n<img src=\"compare.png\" alt=\"accuracy and MIA per method\">\n<table>\n")
                .append("<tr><th>method</th><th>forget-train</th><th>retain-train</th><th>forget-test</th><th>retain-test</th><th>MIA</th>"
                        + "<th>seconds</th><th>changed</th><th>settings</th></tr>\n");
        for (Row r : rows) {
            b.append("<tr><td>").append(escape(r.method())).append("</td><td>").append(pct(r.forgetTrainAcc())).append("</td><td>")
                    .append(pct(r.retainTrainAcc())).append("</td><td>").append(pct(r.forgetTestAcc())).append("</td><td>")
                    .append(pct(r.retainTestAcc())).append("</td><td>").append(pct(r.mia())).append("</td><td>")
                    .append(r.seconds() == null ? "" : String.format(Locale.ROOT, "%.2f", r.seconds())).append("</td><td>")
                    .append(r.changedFraction() == null ? "" : pct(r.changedFraction())).append("</td><td style=\"text-align:left\">")
                    .append(escape(r.settings())).append("</td></tr>\n");
        }
        b.append("</table>\n");
        failures.forEach((m, why) -> b.append("<p>").append(escape(m)).append(" did not run: ").append(escape(why)).append("</p>\n"));
        return b.append("<p>Details of every run: <a href=\"compare.json\">compare.json</a></p>\n</body></html>\n").toString();
    }

    /** Grouped bars per method: forget-test accuracy, retain-test accuracy, MIA. */
    BufferedImage chart() {
        List<String> labels = rows.stream().map(Row::method).toList();
        Double[] forget = rows.stream().map(Row::forgetTestAcc).toArray(Double[]::new);
        Double[] retain = rows.stream().map(Row::retainTestAcc).toArray(Double[]::new);
        Double[] mia = rows.stream().map(Row::mia).toArray(Double[]::new);
        return Charts.bars("Forgetting " + forgetSet + ": accuracy and MIA per method", labels,
                List.of(new Charts.Series("forget-test acc", Charts.RED, forget), new Charts.Series("retain-test acc", Charts.BLUE, retain),
                        new Charts.Series("MIA", Charts.GREY, mia)), 1, true);
    }

    private static String pct(Double v) {
        return v == null ? "" : String.format(Locale.ROOT, "%.2f%%", v * 100);
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
