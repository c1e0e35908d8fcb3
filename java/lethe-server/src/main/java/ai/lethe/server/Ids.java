package ai.lethe.server;

import java.security.SecureRandom;
import java.util.HexFormat;

/** Resource ids: a kind prefix and 64 random bits, e.g. job-3f9c0a7d5e21b864. Unguessable, safe as file names. */
final class Ids {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Ids() {
    }

    static String model() {
        return next("model");
    }

    static String job() {
        return next("job");
    }

    static String importance() {
        return next("imp");
    }

    private static String next(String prefix) {
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        return prefix + "-" + HexFormat.of().formatHex(b);
    }
}
