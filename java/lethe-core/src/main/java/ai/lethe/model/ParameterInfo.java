package ai.lethe.model;

import java.util.Arrays;

/** A named parameter tensor of a model: its name (as PyTorch's named_parameters() gives it) and shape. */
public record ParameterInfo(String name, long[] shape) {

    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ParameterInfo p && p.name.equals(name) && Arrays.equals(p.shape, shape);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
