package ai.lethe.cli;

import picocli.CommandLine.Option;

/** {@code --data} and {@code --train-limit}. */
final class DataOptions {

    @Option(names = "--data", required = true, paramLabel = "DATA",
            description = "Training and test data: fashion-mnist (Debian's dataset-fashion-mnist), idx:DIR (MNIST-style IDX files), npy:DIR (train_x.npy, train_y.npy, test_x.npy, test_y.npy) or safetensors:DIR (train.safetensors, test.safetensors with tensors x and y).")
    String data;

    @Option(names = "--train-limit", paramLabel = "N", defaultValue = "0",
            description = "Use only the first N training samples, in file order (default: 0 = all).")
    int trainLimit;
}
