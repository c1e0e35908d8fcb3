package ai.lethe.bench;

import java.util.ArrayList;
import java.util.List;

/** Parameter lists to benchmark on: ResNet-18's real tensor shapes, optionally rescaled. */
public final class ParameterShapes {

    private ParameterShapes() {
    }

    /**
     * The 62 parameter tensors of torchvision's ResNet-18 with a 10-class head, in named_parameters()
     * order (BatchNorm weight and bias included): 11,181,642 floats.
     */
    public static long[] resnet18() {
        List<Long> s = new ArrayList<>();
        s.add(64L * 3 * 7 * 7);
        bn(s, 64);
        int in = 64;
        int[] widths = {64, 128, 256, 512};
        for (int stage = 0; stage < 4; stage++) {
            int out = widths[stage];
            for (int block = 0; block < 2; block++) {
                int cin = block == 0 ? in : out;
                s.add((long) out * cin * 9);
                bn(s, out);
                s.add((long) out * out * 9);
                bn(s, out);
                if (block == 0 && stage > 0) {
                    s.add((long) out * cin); // downsample 1x1 conv
                    bn(s, out);
                }
            }
            in = out;
        }
        s.add(10L * 512);
        s.add(10L);
        return s.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * The 8 parameter tensors of the bundled Fashion-MNIST CNN (conv 1→16, conv 16→32, linear 1568→64,
     * linear 64→10, weights and biases): 105,866 floats, a list on which kernels are bound by launch latency.
     */
    public static long[] fashionCnn() {
        return new long[] {16L * 9, 16, 32L * 16 * 9, 32, 64L * 1568, 64, 10L * 64, 10};
    }

    private static void bn(List<Long> s, int channels) {
        s.add((long) channels);
        s.add((long) channels);
    }

    /** The same 62 shapes rescaled so that they hold {@code total} floats together. */
    public static long[] resnet18Scaled(long total) {
        if (total < 1) {
            throw new ai.lethe.InvalidSettingException("--params must be at least 1, got " + total);
        }
        long[] base = resnet18();
        long baseTotal = 0;
        int largest = 0;
        for (int i = 0; i < base.length; i++) {
            baseTotal += base[i];
            if (base[i] > base[largest]) {
                largest = i;
            }
        }
        long[] out = new long[base.length];
        long sum = 0;
        for (int i = 0; i < base.length; i++) {
            out[i] = (long) Math.floor((double) base[i] * total / baseTotal);
            sum += out[i];
        }
        out[largest] += total - sum;
        return out;
    }

    public static long total(long[] sizes) {
        long n = 0;
        for (long s : sizes) {
            n += s;
        }
        return n;
    }
}
