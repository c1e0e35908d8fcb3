package ai.lethe.train;

import java.util.Locale;

/** Learning-rate schedules, stepped once per epoch as PyTorch's schedulers are. */
public enum Schedule {
    /** CosineAnnealingLR with T_max = epochs: lr · (1 + cos(π·epoch/epochs)) / 2. */
    COSINE,
    /** Step decay: ×0.1 after half and again after three quarters of the epochs. */
    STEP,
    CONSTANT;

    public float lr(float base, int epoch, int epochs) {
        return switch (this) {
            case COSINE -> (float) (base * 0.5 * (1 + Math.cos(Math.PI * epoch / epochs)));
            case STEP -> base * (epoch >= epochs * 3 / 4 && epochs >= 4 ? 0.01f : epoch >= epochs / 2 && epochs >= 2 ? 0.1f : 1f);
            case CONSTANT -> base;
        };
    }

    public static Schedule parse(String s) {
        try {
            return valueOf(s.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown schedule '" + s + "' (expected cosine, step or constant)");
        }
    }
}
