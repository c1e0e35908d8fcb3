package ai.lethe.cli;

import ai.lethe.importance.Estimator;
import ai.lethe.method.Method;
import picocli.CommandLine;

/** Option converters whose failures are usage errors (exit 2) with the core's own message. */
final class Converters {

    private Converters() {
    }

    static final class MethodConverter implements CommandLine.ITypeConverter<Method> {
        @Override
        public Method convert(String value) {
            try {
                return Method.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    static final class EstimatorConverter implements CommandLine.ITypeConverter<Estimator> {
        @Override
        public Estimator convert(String value) {
            try {
                return Estimator.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
