package ai.lethe.cli;

import java.io.IOException;
import java.nio.file.Path;

import ai.lethe.Lethe;
import ai.lethe.model.Weights;
import picocli.CommandLine.Option;

/** {@code --model} and {@code --weights}. */
final class ModelOptions {

    @Option(names = "--model", required = true, paramLabel = "M",
            description = "The trained model: TorchScript (.pt), or a zoo model (.safetensors written by 'lethe train'; a plain PyTorch state_dict needs --arch).")
    Path model;

    @Option(names = "--arch", paramLabel = "ARCH",
            description = "Architecture of a plain safetensors state_dict given as --model: mlp, cnn, resnet18-cifar or resnet18.")
    String arch;

    @Option(names = "--weights", paramLabel = "W.safetensors",
            description = "Load the parameters from this safetensors file (keys = parameter names, as a PyTorch state_dict) into the model.")
    Path weights;

    /** Registers the files these options read. */
    CliOutput.Paths inputs(CliOutput.Paths paths) {
        return paths.input("--model", model).input("--weights", weights);
    }

    /** Opens the model on the given device, with the --weights applied. */
    Lethe open(String device) throws IOException {
        Lethe lethe = Lethe.load(model, arch, device);
        try {
            if (weights != null) {
                Weights.LoadSummary s = lethe.loadWeights(weights);
                if (!s.ignored().isEmpty()) {
                    System.err.println("note: " + weights + ": ignored " + s.ignored().size()
                            + " tensors that are not parameters of the model, e.g. " + s.ignored().get(0));
                }
            }
            return lethe;
        } catch (IOException | RuntimeException e) {
            lethe.close();
            throw e;
        }
    }
}
