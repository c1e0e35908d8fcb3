package jakarta.servlet;

/**
 * Servlet 5's deprecated marker interface, removed in Servlet 6. The CLI carries both the service (Jetty 12,
 * Servlet 6) and embedded Spark, whose shaded Jetty 11 checks every servlet it registers (its metrics servlet, even
 * with the UI off) against this interface; with Servlet 6 on the class path that check fails to load it.
 */
@Deprecated
public interface SingleThreadModel {
}
