package ai.lethe.method;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Describes one field of a {@link MethodSettings} record for the front ends that are generated from it: the CLI
 * option, the service's JSON field and the OpenAPI schema. The record's constructor stays the one place that
 * checks the value; the bounds here only document it (a test holds the two together).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface Setting {

    /** What the field means, one sentence. */
    String doc();

    /** The CLI option; empty = "--" and the field's name in kebab case. */
    String option() default "";

    /** Further CLI names of the same option. */
    String[] aliases() default {};

    /** The value's placeholder in the CLI help. */
    String label() default "V";

    double minimum() default Double.NEGATIVE_INFINITY;

    boolean exclusiveMinimum() default false;

    double maximum() default Double.POSITIVE_INFINITY;

    boolean exclusiveMaximum() default false;

    /** The accepted values of a string field (empty = any). */
    String[] values() default {};

    /** The field also takes the word {@code auto} (stored as null). */
    boolean auto() default false;

    /** What a null value means, for a field whose default is null. */
    String whenAbsent() default "";
}
