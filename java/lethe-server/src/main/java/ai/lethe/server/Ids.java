package ai.lethe.server;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** Resource ids: a kind prefix and 64 random bits, e.g. job-3f9c0a7d5e21b864. Unguessable, safe as file names. */
final class Ids {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern SHAPE = Pattern.compile("[a-z]+-[0-9a-f]{16}");

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

    /** True for strings that could be an id (checked before an id is used in a file name). */
    static boolean wellFormed(String id) {
        return id != null && SHAPE.matcher(id).matches();
    }

    private static String next(String prefix) {
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        return prefix + "-" + HexFormat.of().formatHex(b);
    }
}
