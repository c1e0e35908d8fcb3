package ai.lethe.kernels;

/**
 * An order-preserving map from floats to 32-bit keys: comparing keys as unsigned integers orders the
 * floats, with every NaN (whatever its sign and payload, which differ between the JVM and CUDA) mapped to
 * key 0, below -∞, so a NaN ratio is never among the largest. Radix select works on these keys.
 */
public final class RatioKeys {

    private RatioKeys() {
    }

    /** The key of a float. */
    public static int key(float f) {
        if (f != f) {
            return 0;
        }
        int bits = Float.floatToRawIntBits(f);
        return bits < 0 ? ~bits : bits ^ 0x8000_0000;
    }

    /** The float of a key. */
    public static float value(int key) {
        int bits = key < 0 ? key ^ 0x8000_0000 : ~key;
        return Float.intBitsToFloat(bits);
    }

    /** The ratio that DeepClean ranks: iF / (iR + epsilon), in fp32 exactly as every back end computes it. */
    public static float ratio(float importanceForget, float importanceRetain, float epsilon) {
        return importanceForget / (importanceRetain + epsilon);
    }
}
