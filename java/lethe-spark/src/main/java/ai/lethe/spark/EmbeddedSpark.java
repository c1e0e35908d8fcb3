package ai.lethe.spark;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import ai.lethe.InvalidSettingException;

/**
 * A Spark session for one job: inside this process for {@code local[N]} (what {@code lethe fisher --spark local[N]}
 * and the tests use), or connected to a cluster master ({@code spark://host:7077}). Under spark-submit the master
 * comes from spark-submit and {@link #open} is given null.
 */
public final class EmbeddedSpark implements AutoCloseable {

    private static final Pattern LOCAL = Pattern.compile("local\\[(\\d+|\\*)\\]");

    /** Attempts per task in local mode, as spark.task.maxFailures gives a cluster (local mode otherwise never retries). */
    public static final int LOCAL_TASK_ATTEMPTS = 4;

    private final SparkSession session;

    private EmbeddedSpark(SparkSession session) {
        this.session = session;
    }

    /**
     * Starts (or joins) a session. {@code master} null keeps what spark-submit set; {@code local[N]} becomes
     * {@code local[N,4]} so that a failed task is retried as on a cluster; {@code conf} adds settings.
     */
    public static EmbeddedSpark open(String master, Map<String, String> conf) {
        // Spark's start-up warnings about this machine's host name and Hadoop's native library say nothing about
        // the job; errors still show (an explicit setting wins).
        quiet("org.apache.spark.util.Utils", "error");
        quiet("org.apache.hadoop.util.NativeCodeLoader", "error");
        if (master != null && master.strip().startsWith("local")) {
            // In-process, a failed task's error comes back as the job's one-line error: Spark's own stack traces of
            // every attempt would bury it (a cluster's executor logs keep them).
            quiet("org.apache.spark.executor.Executor", "off");
            quiet("org.apache.spark.scheduler.TaskSetManager", "error");
        }
        SparkConf c = new SparkConf().setAppName("lethe fisher").setIfMissing("spark.ui.enabled", "false");
        if (master != null) {
            String m = master.strip();
            if (!m.startsWith("local") && !m.contains("://") && !m.equals("yarn") && !m.startsWith("k8s")) {
                throw new InvalidSettingException("--spark '" + master + "' is not a Spark master (local[N], spark://HOST:PORT, yarn, k8s://...)");
            }
            Matcher local = LOCAL.matcher(m);
            if (local.matches()) {
                m = "local[" + local.group(1) + "," + LOCAL_TASK_ATTEMPTS + "]";
            }
            c.setMaster(m);
            if (m.startsWith("local")) {
                // nothing leaves the machine: bind the driver to the loopback interface
                c.setIfMissing("spark.driver.host", "127.0.0.1").setIfMissing("spark.driver.bindAddress", "127.0.0.1");
            }
        }
        conf.forEach(c::set);
        return new EmbeddedSpark(SparkSession.builder().config(c).getOrCreate());
    }

    /** Sets a logger's level for slf4j-simple unless the user set it (-Dorg.slf4j.simpleLogger.log.NAME=...). */
    private static void quiet(String logger, String level) {
        String key = "org.slf4j.simpleLogger.log." + logger;
        System.setProperty(key, System.getProperty(key, level));
    }

    public JavaSparkContext context() {
        return JavaSparkContext.fromSparkContext(session.sparkContext());
    }

    public SparkSession session() {
        return session;
    }

    public String master() {
        return session.sparkContext().master();
    }

    @Override
    public void close() {
        session.stop();
    }
}
