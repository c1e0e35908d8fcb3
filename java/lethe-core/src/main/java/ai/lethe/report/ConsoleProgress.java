package ai.lethe.report;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress on stderr: a bar with rate and ETA redrawn in place on a terminal, plain lines (every 10% or
 * 5 seconds, whichever comes later) when stderr is a file or a pipe, so logs stay readable.
 */
public final class ConsoleProgress implements Progress {

    private final PrintStream out;
    private final boolean terminal;
    private String task;
    private String unit;
    private long total;
    private long done;
    private long startNanos;
    private long lastPrintNanos;
    private long lastPrintedDone;

    public ConsoleProgress(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    /** stderr, drawn as a bar when the process has a console. */
    public static ConsoleProgress stderr() {
        return new ConsoleProgress(System.err, System.console() != null);
    }

    @Override
    public synchronized void start(String task, long total, String unit) {
        this.task = task;
        this.total = total;
        this.unit = unit;
        this.done = 0;
        this.startNanos = System.nanoTime();
        this.lastPrintNanos = startNanos;
        this.lastPrintedDone = 0;
        if (!terminal) {
            out.printf(Locale.ROOT, "%s: %s%n", task, total > 0 ? total + " " + unit : "started");
        }
    }

    @Override
    public synchronized void advance(long n) {
        done += n;
        long now = System.nanoTime();
        if (terminal) {
            if (now - lastPrintNanos > 100_000_000L || done == total) {
                out.print("\r" + line(now) + "\u001b[K");
                out.flush();
                lastPrintNanos = now;
            }
        } else if (total > 0 && now - lastPrintNanos > 5_000_000_000L && done - lastPrintedDone >= Math.max(1, total / 10)) {
            out.println(line(now));
            lastPrintNanos = now;
            lastPrintedDone = done;
        }
    }

    @Override
    public synchronized void finish() {
        long now = System.nanoTime();
        if (terminal) {
            out.print("\r" + line(now) + "\u001b[K\n");
        } else {
            out.printf(Locale.ROOT, "%s: done, %d %s in %.1f s%n", task, done, unit, (now - startNanos) / 1e9);
        }
        out.flush();
    }

    @Override
    public void note(String message) {
        out.println(message);
    }

    private String line(long now) {
        double elapsed = (now - startNanos) / 1e9;
        double rate = elapsed > 0 ? done / elapsed : 0;
        if (total <= 0) {
            return String.format(Locale.ROOT, "%s: %d %s, %.1f/s", task, done, unit, rate);
        }
        double frac = Math.min(1, (double) done / total);
        int width = 24;
        int filled = (int) Math.round(frac * width);
        String bar = "#".repeat(filled) + ".".repeat(width - filled);
        String eta = rate > 0 && done < total ? String.format(Locale.ROOT, ", ETA %s", duration((total - done) / rate)) : "";
        return String.format(Locale.ROOT, "%s [%s] %3.0f%% %d/%d %s, %.1f/s%s", task, bar, frac * 100, done, total, unit,
                rate, eta);
    }

    private static String duration(double s) {
        if (s < 60) {
            return String.format(Locale.ROOT, "%.0fs", s);
        }
        return String.format(Locale.ROOT, "%dm%02ds", (long) s / 60, (long) s % 60);
    }
}
