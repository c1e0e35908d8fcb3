package ai.lethe;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A setting the caller chose is invalid (an option out of range, an unknown name, a combination that does not
 * apply). Separate from other argument errors so that the CLI can answer it as a usage error (exit 2) and the
 * service as a bad request, while errors found in files and data stay ordinary failures.
 *
 * <p>A message made by {@link #about} names settings by their field names in braces ({@code "{alpha} must be a
 * positive number"}): {@link #getMessage()} says {@code alpha}, and each front end renders the names its users
 * write through {@link #message(UnaryOperator)} ({@code --alpha} on the command line, {@code 'alpha'} in the
 * service's JSON).
 */
public class InvalidSettingException extends IllegalArgumentException {

    private static final Pattern FIELD = Pattern.compile("\\{([a-z0-9_.]+)}");

    private final String template;

    public InvalidSettingException(String message) {
        super(message);
        this.template = null;
    }

    private InvalidSettingException(String template, UnaryOperator<String> plain) {
        super(render(template, plain));
        this.template = template;
    }

    /** An invalid setting described in the domain's terms, with the fields it is about written as {name}. */
    public static InvalidSettingException about(String template) {
        return new InvalidSettingException(template, name -> name);
    }

    /** The message with every field named as {@code name} says (a CLI option, a JSON field). */
    public String message(UnaryOperator<String> name) {
        return template == null ? getMessage() : render(template, name);
    }

    /** The fields this message is about, in order (empty for a plain message). */
    public List<String> fields() {
        List<String> out = new ArrayList<>();
        if (template != null) {
            Matcher m = FIELD.matcher(template);
            while (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }

    private static String render(String template, UnaryOperator<String> name) {
        Matcher m = FIELD.matcher(template);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(b, Matcher.quoteReplacement(name.apply(m.group(1))));
        }
        m.appendTail(b);
        return b.toString();
    }
}
