package ai.lethe.profile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;

import ai.lethe.io.AtomicFiles;
import ai.lethe.report.Charts;
import ai.lethe.report.ForgetReport;

/**
 * What {@code lethe profile} found: time per phase and thread (exclusive of nested phases, and as a share of
 * the wall time), per-kernel calls, time and bandwidth against a copy measured in the same run, per-tensor
 * importance statistics, and a histogram of I_f/I_D. Written as a terminal table, profile.json, a Chrome
 * trace (trace.json, one track per thread) and an HTML page with PNG charts.
 */
public final class ProfileReport {

    /** The phase that evaluation runs in; phases inside it are reported apart (see {@link #phases}). */
    static final String EVALUATE = "evaluate";

    /** The files {@link #write} puts in its directory. */
    public static final List<String> FILES = List.of("profile.json", "trace.json", "profile.html", "phases.png", "layers.png",
            "ratios.png");

    /** Time spent in one phase on one thread. */
    public record Phase(String name, String thread, long calls, double totalMs, double exclusiveMs, double share) {
    }

    /** One kernel's calls; GB/s counts the bytes the kernel must move (docs/algorithms.md, section 6). */
    public record KernelRow(String name, long calls, double totalMs, double gigabytes, double gbps, double copyGbps, double ratioToCopy) {
    }

    /** Importance statistics of one parameter tensor. */
    public record TensorRow(String name, long numel, Double importanceFullMean, Double importanceFullMax, Double importanceForgetMean,
                            Double importanceForgetMax, Double fractionSelected, double fractionChanged, double fractionNonFinite) {
    }

    private final ForgetReport forget;
    private final String device;
    private final double wallMs;
    private final List<Phase> phases;
    private final List<KernelRow> kernels;
    private final List<TensorRow> tensors;
    private final double[] ratioEdges;
    private final long[] ratioCounts;
    private final List<Profiler.Event> events;
    private final Map<Long, String> threads;
    private final long origin;

    public ProfileReport(ForgetReport forget, String device, Profiler.Recording rec, double copyGbps, List<TensorRow> tensors,
                         double[] ratioEdges, long[] ratioCounts) {
        this.forget = forget;
        this.device = device;
        this.events = rec.events();
        this.threads = rec.threads();
        this.origin = rec.startNanos();
        this.wallMs = (rec.endNanos() - rec.startNanos()) / 1e6;
        this.phases = phases(events, threads, wallMs);
        this.kernels = kernels(events, copyGbps);
        this.tensors = tensors;
        this.ratioEdges = ratioEdges;
        this.ratioCounts = ratioCounts;
    }

    public List<Phase> phases() {
        return phases;
    }

    public List<KernelRow> kernels() {
        return kernels;
    }

    public List<TensorRow> tensors() {
        return tensors;
    }

    public ForgetReport forget() {
        return forget;
    }

    public double wallMs() {
        return wallMs;
    }

    /**
     * Exclusive time per (thread, phase): a phase's time minus the phases nested in it on the same thread. Phases
     * nested (at any depth) in an {@value #EVALUATE} phase are reported as {@code evaluate/<name>}, so the
     * evaluation's forward passes do not swell the unlearning's "forward" row.
     */
    static List<Phase> phases(List<Profiler.Event> events, Map<Long, String> threads, double wallMs) {
        Map<Long, List<Profiler.Event>> byThread = new TreeMap<>();
        for (Profiler.Event e : events) {
            if (e.category().equals("phase")) {
                byThread.computeIfAbsent(e.threadId(), k -> new ArrayList<>()).add(e);
            }
        }
        List<Phase> out = new ArrayList<>();
        Map<List<String>, double[]> merged = new LinkedHashMap<>();
        for (Map.Entry<Long, List<Profiler.Event>> t : byThread.entrySet()) {
            // Outer spans first: by start, then longer first, then the one closed later (recorded later) first.
            List<Profiler.Event> recorded = t.getValue();
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < recorded.size(); i++) {
                order.add(i);
            }
            order.sort(Comparator.<Integer>comparingLong(i -> recorded.get(i).startNanos())
                    .thenComparing(i -> -recorded.get(i).durationNanos()).thenComparing(i -> -i));
            List<Profiler.Event> list = new ArrayList<>();
            for (int i : order) {
                list.add(recorded.get(i));
            }
            Map<String, double[]> acc = new LinkedHashMap<>(); // calls, total, exclusive
            Deque<long[]> open = new ArrayDeque<>();            // {end, index}
            double[] exclusive = new double[list.size()];
            String[] row = new String[list.size()];
            for (int i = 0; i < list.size(); i++) {
                Profiler.Event e = list.get(i);
                long end = e.startNanos() + e.durationNanos();
                while (!open.isEmpty() && open.peek()[0] <= e.startNanos()) {
                    open.pop();
                }
                exclusive[i] = e.durationNanos();
                row[i] = e.name();
                if (!open.isEmpty()) {
                    String parentRow = row[(int) open.peek()[1]];
                    if (parentRow.equals(EVALUATE) || parentRow.startsWith(EVALUATE + "/")) {
                        row[i] = EVALUATE + "/" + e.name();
                    }
                }
                if (!open.isEmpty()) {
                    // only the part inside the enclosing span is its time (spans should nest; if one overlaps
                    // its neighbour's end, the overhang is not taken from the neighbour)
                    long[] parent = open.peek();
                    exclusive[(int) parent[1]] -= Math.min(parent[0], end) - e.startNanos();
                }
                open.push(new long[] {end, i});
            }
            for (int i = 0; i < exclusive.length; i++) {
                exclusive[i] = Math.max(0, exclusive[i]);
            }
            for (int i = 0; i < list.size(); i++) {
                double[] a = acc.computeIfAbsent(row[i], k -> new double[3]);
                a[0]++;
                a[1] += list.get(i).durationNanos() / 1e6;
                a[2] += exclusive[i] / 1e6;
            }
            String thread = threads.getOrDefault(t.getKey(), "thread " + t.getKey());
            // threads of one name (a new prefetch thread per pass) make one row
            acc.forEach((name, a) -> merged.merge(List.of(thread, name), a, (x, y) -> new double[] {x[0] + y[0], x[1] + y[1], x[2] + y[2]}));
        }
        merged.forEach((key, a) -> out.add(new Phase(key.get(1), key.get(0), (long) a[0], a[1], a[2], wallMs > 0 ? a[2] / wallMs : 0)));
        out.sort(Comparator.comparing(Phase::thread).thenComparing(Phase::exclusiveMs, Comparator.reverseOrder()));
        return out;
    }

    static List<KernelRow> kernels(List<Profiler.Event> events, double copyGbps) {
        Map<String, double[]> acc = new TreeMap<>(); // calls, ns, bytes
        for (Profiler.Event e : events) {
            if (e.category().equals("kernel")) {
                double[] a = acc.computeIfAbsent(e.name(), k -> new double[3]);
                a[0]++;
                a[1] += e.durationNanos();
                a[2] += e.args() == null ? 0 : ((Number) e.args().getOrDefault("bytes", 0L)).doubleValue();
            }
        }
        List<KernelRow> out = new ArrayList<>();
        acc.forEach((name, a) -> {
            double gbps = a[1] > 0 ? a[2] / a[1] : 0;
            out.add(new KernelRow(name, (long) a[0], a[1] / 1e6, a[2] / 1e9, gbps, copyGbps, copyGbps > 0 ? gbps / copyGbps : 0));
        });
        out.sort(Comparator.comparingDouble(KernelRow::totalMs).reversed());
        return out;
    }

    /** The tables as the terminal shows them. */
    public String table() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "profile of %s on %s: %.3f s wall%n%n", forget.method(), device, wallMs / 1e3));
        b.append(String.format(Locale.ROOT, "%-18s %-20s %8s %11s %11s %7s%n", "phase", "thread", "calls", "total ms", "self ms", "share"));
        for (Phase p : phases) {
            b.append(String.format(Locale.ROOT, "%-18s %-20s %8d %11.1f %11.1f %6.1f%%%n", p.name(), p.thread(), p.calls(), p.totalMs(),
                    p.exclusiveMs(), p.share() * 100));
        }
        b.append(String.format(Locale.ROOT, "%n%-28s %8s %10s %9s %9s %7s%n", "kernel", "calls", "ms", "GB/s", "copy GB/s", "ratio"));
        for (KernelRow k : kernels) {
            b.append(String.format(Locale.ROOT, "%-28s %8d %10.2f %9.1f %9.1f %7.2f%n", k.name(), k.calls(), k.totalMs(), k.gbps(),
                    k.copyGbps(), k.ratioToCopy()));
        }
        b.append(String.format(Locale.ROOT, "%n%-24s %10s %11s %11s %11s %11s %9s %9s %9s%n", "tensor", "elements", "I_D mean", "I_D max",
                "I_f mean", "I_f max", "selected", "changed", "nonfinite"));
        for (TensorRow t : tensors) {
            b.append(String.format(Locale.ROOT, "%-24s %10d %11s %11s %11s %11s %9s %8.2f%% %8.2f%%%n", t.name(), t.numel(),
                    sci(t.importanceFullMean()), sci(t.importanceFullMax()), sci(t.importanceForgetMean()), sci(t.importanceForgetMax()),
                    t.fractionSelected() == null ? "" : String.format(Locale.ROOT, "%.2f%%", t.fractionSelected() * 100),
                    t.fractionChanged() * 100, t.fractionNonFinite() * 100));
        }
        return b.toString();
    }

    private static String sci(Double v) {
        return v == null ? "" : String.format(Locale.ROOT, "%.3e", v);
    }

    /** What profile.json holds: device, wall time, phases, kernels, tensors, the ratio histogram and the forget report. */
    public Map<String, Object> summary() {
        Map<String, Object> all = new LinkedHashMap<>();
        all.put("device", device);
        all.put("wall_ms", wallMs);
        all.put("phases", phases);
        all.put("kernels", kernels);
        all.put("tensors", tensors);
        all.put("ratio_histogram", Map.of("log10_edges", ratioEdges, "counts", ratioCounts));
        all.put("forget", forget);
        return all;
    }

    /** profile.json, trace.json, profile.html and its PNG charts in {@code dir}, each written atomically. */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(SerializationFeature.INDENT_OUTPUT);
        AtomicFiles.writeString(dir.resolve("profile.json"), json.writeValueAsString(summary()) + "\n");
        AtomicFiles.writeString(dir.resolve("trace.json"), new ObjectMapper().writeValueAsString(trace()) + "\n");
        writeCharts(dir);
        AtomicFiles.writeString(dir.resolve("profile.html"), html());
    }

    /** Chrome trace-event format: complete ("X") events in microseconds, one track per thread, named. */
    Map<String, Object> trace() {
        List<Map<String, Object>> out = new ArrayList<>();
        threads.forEach((id, name) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", "thread_name");
            m.put("ph", "M");
            m.put("pid", 1);
            m.put("tid", id);
            m.put("args", Map.of("name", name));
            out.add(m);
        });
        for (Profiler.Event e : events) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", e.name());
            m.put("cat", e.category());
            m.put("ph", "X");
            m.put("ts", (e.startNanos() - origin) / 1e3);
            m.put("dur", e.durationNanos() / 1e3);
            m.put("pid", 1);
            m.put("tid", e.threadId());
            if (e.args() != null) {
                m.put("args", e.args());
            }
            out.add(m);
        }
        Map<String, Object> trace = new LinkedHashMap<>();
        trace.put("traceEvents", out);
        trace.put("displayTimeUnit", "ms");
        return trace;
    }

    private void writeCharts(Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        Double[] ms = new Double[phases.size()];
        double max = 0;
        for (int i = 0; i < phases.size(); i++) {
            Phase p = phases.get(i);
            names.add(p.name() + (p.thread().equals("main") ? "" : " (" + p.thread().replaceFirst("^lethe-", "") + ")"));
            ms[i] = p.exclusiveMs();
            max = Math.max(max, ms[i]);
        }
        Charts.writePng(Charts.bars("Self time per phase (ms)", names, List.of(new Charts.Series("self ms", Charts.BLUE, ms)), max, false),
                dir.resolve("phases.png"));
        List<String> layers = tensors.stream().map(TensorRow::name).toList();
        Double[] selected = tensors.stream().map(t -> t.fractionSelected() != null ? t.fractionSelected() : t.fractionChanged())
                .toArray(Double[]::new);
        double top = 0;
        for (Double d : selected) {
            top = Math.max(top, d);
        }
        Charts.writePng(Charts.bars("Fraction of each tensor selected/changed", layers,
                List.of(new Charts.Series("selected", Charts.RED, selected)), Math.max(top, 1e-3), true), dir.resolve("layers.png"));
        Charts.writePng(Charts.histogram("Histogram of log10(I_f / I_D) over all parameters", "parameters", ratioEdges, ratioCounts),
                dir.resolve("ratios.png"));
    }

    private String html() {
        StringBuilder b = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Lethe profile</title>\n"
                + "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;"
                + "padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}</style></head><body>\n");
        b.append(String.format(Locale.ROOT, "<h1>Profile of %s</h1>\n<p>%s; forgetting %s; %.3f s wall (%.3f s unlearning, %s s evaluation)."
                + " Open <a href=\"trace.json\">trace.json</a> in chrome://tracing or Perfetto for the timeline.</p>\n",
                escape(forget.method()), escape(device), escape(forget.forgetSet()), wallMs / 1e3, forget.seconds().total(),
                forget.seconds().evaluate() == null ? "no" : String.format(Locale.ROOT, "%.3f", forget.seconds().evaluate())));
        b.append("<h2>Phases</h2>\n<img src=\"phases.png\" alt=\"self time per phase\">\n<table><tr><th>phase</th><th>thread</th><th>calls</th>"
                + "<th>total ms</th><th>self ms</th><th>share of wall</th></tr>\n");
        for (Phase p : phases) {
            b.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%s</td><td>%d</td><td>%.1f</td><td>%.1f</td><td>%.1f%%</td></tr>\n",
                    escape(p.name()), escape(p.thread()), p.calls(), p.totalMs(), p.exclusiveMs(), p.share() * 100));
        }
        b.append("</table>\n<h2>Kernels</h2>\n<table><tr><th>kernel</th><th>calls</th><th>ms</th><th>GB/s</th><th>copy GB/s</th><th>ratio</th></tr>\n");
        for (KernelRow k : kernels) {
            b.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%d</td><td>%.2f</td><td>%.1f</td><td>%.1f</td><td>%.2f</td></tr>\n",
                    escape(k.name()), k.calls(), k.totalMs(), k.gbps(), k.copyGbps(), k.ratioToCopy()));
        }
        b.append("</table>\n<h2>Parameters</h2>\n<img src=\"layers.png\" alt=\"selected fraction per tensor\">\n"
                + "<img src=\"ratios.png\" alt=\"histogram of I_f/I_D\">\n<table><tr><th>tensor</th><th>elements</th><th>I_D mean</th><th>I_D max</th>"
                + "<th>I_f mean</th><th>I_f max</th><th>selected</th><th>changed</th><th>non-finite</th></tr>\n");
        for (TensorRow t : tensors) {
            b.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%.2f%%</td>"
                    + "<td>%.2f%%</td></tr>\n", escape(t.name()), t.numel(), sci(t.importanceFullMean()), sci(t.importanceFullMax()),
                    sci(t.importanceForgetMean()), sci(t.importanceForgetMax()),
                    t.fractionSelected() == null ? "" : String.format(Locale.ROOT, "%.2f%%", t.fractionSelected() * 100),
                    t.fractionChanged() * 100, t.fractionNonFinite() * 100));
        }
        return b.append("</table>\n</body></html>\n").toString();
    }

    private static String escape(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
