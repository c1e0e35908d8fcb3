package ai.lethe.model;

import java.io.IOException;
import java.io.UncheckedIOException;

import org.bytedeco.javacpp.Loader;

/**
 * Loads libtorch through the JavaCPP preset, safely.
 *
 * <p>Why this exists: JavaCPP extracts and loads the preset's libraries one by one, and it loads the small
 * libtorch.so stub before it has extracted libtorch_cpu.so. The dynamic linker then misses $ORIGIN and
 * falls through to the default path; where Debian's python3-torch is installed that holds libtorch 1.13,
 * which gets loaded next to 2.10 and crashes the first run after the cache is created. Extracting the
 * whole native directory before loading anything closes that window.
 */
public final class Libtorch {

    private static volatile boolean loaded;

    private Libtorch() {
    }

    public static void ensureLoaded() {
        if (loaded) {
            return;
        }
        synchronized (Libtorch.class) {
            if (loaded) {
                return;
            }
            try {
                Loader.cacheResources("/org/bytedeco/pytorch/" + Loader.getPlatform() + "/");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot extract libtorch into JavaCPP's cache ("
                        + System.getProperty("org.bytedeco.javacpp.cachedir", "~/.javacpp/cache") + "): " + e.getMessage(), e);
            }
            Loader.load(org.bytedeco.pytorch.global.torch.class);
            loaded = true;
        }
    }

    /** First line of a libtorch error, which otherwise carries a C++ backtrace. */
    static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage()).strip();
        int nl = m.indexOf('\n');
        String line = nl < 0 ? m : m.substring(0, nl).strip();
        int bt = line.indexOf("Exception raised from");
        return bt > 0 ? line.substring(0, bt).strip() : line;
    }
}
