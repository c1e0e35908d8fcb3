package ai.lethe.model;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Child-process entry point of {@link FreshCacheLoadTest}: loads libtorch (into whatever JavaCPP cache
 * directory the process was given), runs a forward pass, and prints every libtorch_cpu it has mapped.
 */
public final class FreshCacheLoad {

    private FreshCacheLoad() {
    }

    public static void main(String[] args) throws Exception {
        try (Model m = TorchScriptModel.load(Path.of(args[0]))) {
            System.out.println("classes " + m.numClasses(new int[] {1, 28, 28}));
        }
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            if (line.contains("libtorch_cpu") || line.contains("libc10")) {
                System.out.println("mapped " + line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        System.out.println("OK");
    }
}
