package ai.lethe.method;

import java.io.IOException;

/**
 * One way of making a model forget, with its settings type. It changes {@code ctx.model()} in place, only once
 * it has succeeded (on failure the model must be as it was), and asks the kernel layer for every per-parameter
 * update. Implementations are listed in the {@link Method} registry.
 */
public interface UnlearningMethod<S extends MethodSettings> {

    Outcome forget(MethodContext ctx, S settings) throws IOException;

    /** Runs {@code method} with {@code settings}, which must be of its settings type. */
    @SuppressWarnings("unchecked")
    static Outcome run(Method method, MethodContext ctx, MethodSettings settings) throws IOException {
        if (!method.settingsType().isInstance(settings)) {
            throw new IllegalArgumentException(method.id() + " takes " + method.settingsType().getSimpleName()
                    + " settings, not " + settings.getClass().getSimpleName());
        }
        return ((UnlearningMethod<MethodSettings>) method.implementation()).forget(ctx, settings);
    }
}
