package ai.lethe.report;

import java.util.Locale;

/** Renders before/after metrics as the terminal table the CLI prints. */
public final class MetricsTable {

    private MetricsTable() {
    }

    public static String render(ForgetReport.MetricsReport before, ForgetReport.MetricsReport after) {
        StringBuilder sb = new StringBuilder();
        String fmt = after == null ? "%-18s %10s%n" : "%-18s %10s %10s%n";
        sb.append(String.format(Locale.ROOT, fmt, "metric", after == null ? "value" : "before", "after"));
        row(sb, fmt, "forget-train acc", before.forgetTrainAcc(), after == null ? null : after.forgetTrainAcc(), after != null);
        row(sb, fmt, "retain-train acc", before.retainTrainAcc(), after == null ? null : after.retainTrainAcc(), after != null);
        row(sb, fmt, "forget-test acc", before.forgetTestAcc(), after == null ? null : after.forgetTestAcc(), after != null);
        row(sb, fmt, "retain-test acc", before.retainTestAcc(), after == null ? null : after.retainTestAcc(), after != null);
        row(sb, fmt, "MIA (forget)", before.mia(), after == null ? null : after.mia(), after != null);
        return sb.toString();
    }

    private static void row(StringBuilder sb, String fmt, String name, Double a, Double b, boolean two) {
        if (two) {
            sb.append(String.format(Locale.ROOT, fmt, name, pct(a), pct(b)));
        } else {
            sb.append(String.format(Locale.ROOT, fmt, name, pct(a)));
        }
    }

    private static String pct(Double v) {
        return v == null ? "n/a" : String.format(Locale.ROOT, "%.2f%%", v * 100);
    }
}
