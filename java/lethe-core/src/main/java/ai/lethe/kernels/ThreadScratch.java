package ai.lethe.kernels;

/**
 * Numbered float arrays per thread, grown as calls need them and kept for the thread's next call: the per-sample
 * routes' working memory (a fresh array per batch would be garbage per batch). Longer than asked is allowed:
 * callers pass sizes along.
 */
public final class ThreadScratch {

    private final ThreadLocal<float[][]> slots;

    public ThreadScratch(int count) {
        this.slots = ThreadLocal.withInitial(() -> new float[count][]);
    }

    /** This thread's array {@code slot}, at least {@code size} floats long (contents left from its last use). */
    public float[] floats(int slot, long size) {
        float[][] s = slots.get();
        int n = Math.toIntExact(size);
        if (s[slot] == null || s[slot].length < n) {
            s[slot] = new float[n];
        }
        return s[slot];
    }
}
