package ai.lethe.method;

import java.io.IOException;

/**
 * One way of making a model forget. It changes {@code ctx.model()} in place, only once it has succeeded
 * (on failure the model must be as it was), and asks the kernel layer for every per-parameter update.
 */
public interface UnlearningMethod {

    Outcome forget(MethodContext ctx) throws IOException;

    /** The implementation of a method. */
    static UnlearningMethod of(Method m) {
        return switch (m) {
            case SSD, LFSSD -> new SsdMethod();
            case MNEMONIC -> new MnemonicMethod();
            case DEEPCLEAN -> new DeepCleanMethod();
            case RFA -> new RfaMethod();
            case FINETUNE -> new FinetuneMethod();
            case NEGGRAD -> new NegGradMethod();
            case RETRAIN -> new RetrainMethod();
        };
    }
}
