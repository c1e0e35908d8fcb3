package ai.lethe.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import ai.lethe.data.BatchStream;
import ai.lethe.data.DataSource;
import ai.lethe.data.Dataset;
import ai.lethe.importance.Estimator;
import ai.lethe.importance.Importance;
import ai.lethe.importance.ImportanceEstimator;
import ai.lethe.importance.Provenance;
import ai.lethe.kernels.VectorKernels;
import ai.lethe.model.Model;
import ai.lethe.model.Models;

/**
 * A real standalone cluster on this machine, from the jars Maven brought: a master and two workers as child JVMs
 * (loopback only, one core each), each worker starting its own executor JVM; the job runs across both executors.
 * Spark's worker builds executor command lines from SPARK_HOME/jars; an empty SPARK_HOME with the test class path
 * as spark.executor.extraClassPath stands in for a Spark distribution.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(240)
class StandaloneClusterTest {

    static final int SAMPLES = 1024;

    final List<Process> daemons = new ArrayList<>();
    Path home;
    String master;

    @BeforeAll
    void startCluster() throws Exception {
        home = Files.createTempDirectory("lethe-spark-home");
        Files.createDirectories(home.resolve("jars"));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        master = "spark://127.0.0.1:" + port;
        daemons.add(daemon("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                Integer.toString(port), "--webui-port", "0"));
        waitForPort(port);
        for (int i = 0; i < 2; i++) {
            Path work = Files.createDirectories(home.resolve("work-" + i));
            // each worker announces one (pretend) GPU, address i, as scripts/spark/gpu-discovery.sh would report it
            Path discovery = home.resolve("gpu-" + i + ".sh");
            Files.writeString(discovery, "#!/bin/sh\necho '{\"name\": \"gpu\", \"addresses\": [\"" + i + "\"]}'\n");
            discovery.toFile().setExecutable(true);
            Path props = home.resolve("worker-" + i + ".conf");
            Files.writeString(props, "spark.worker.resource.gpu.amount 1\nspark.worker.resource.gpu.discoveryScript " + discovery + "\n");
            daemons.add(daemon("worker-" + i, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "1",
                    "--memory", "2g", "--webui-port", "0", "--work-dir", work.toString(), "--properties-file", props.toString(),
                    master));
        }
    }

    private Process daemon(String name, String mainClass, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path")));
        cmd.addAll(jvmFlags());
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(home.resolve(name + ".log").toFile());
        Map<String, String> env = pb.environment();
        env.put("SPARK_HOME", home.toString());
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        return pb.start();
    }

    /** The module flags this test JVM runs with (Spark's openings, the Vector API), for the daemons and executors. */
    private static List<String> jvmFlags() {
        List<String> flags = new ArrayList<>();
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-opens") || a.startsWith("--add-modules") || a.startsWith("--enable-native-access")
                    || a.startsWith("-Dorg.bytedeco") || a.startsWith("-Djdk.reflect") || a.startsWith("-Dio.netty")
                    || a.startsWith("-XX:+IgnoreUnrecognizedVMOptions")) {
                flags.add(a);
            }
        }
        return flags;
    }

    private static void waitForPort(int port) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException("the master did not open port " + port);
    }

    @AfterAll
    void stopCluster() {
        for (Process p : daemons) {
            p.destroy();
        }
        for (Process p : daemons) {
            try {
                if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try (java.util.stream.Stream<Path> files = Files.walk(home)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory left behind is harmless
        }
    }

    private SparkConf conf() {
        return new SparkConf().setMaster(master).setAppName("lethe-standalone-test")
                .set("spark.ui.enabled", "false")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.executor.memory", "1g").set("spark.executor.cores", "1").set("spark.cores.max", "2")
                .set("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .set("spark.executor.extraJavaOptions", String.join(" ", jvmFlags()) + " -Dlethe.cache.dir="
                        + home.resolve("cache"))
                // start only once both executors have registered, so that the tasks spread over both
                .set("spark.scheduler.minRegisteredResourcesRatio", "1.0")
                .set("spark.scheduler.maxRegisteredResourcesWaitingTime", "120s");
    }

    @Test
    void tasksRunOnTheGpuAddressSparkAssigned() {
        SparkConf conf = conf().setAppName("lethe-standalone-gpu-test")
                .set("spark.executor.resource.gpu.amount", "1").set("spark.task.resource.gpu.amount", "1");
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            List<String> devices = sc.parallelize(List.of(0, 1, 2, 3), 4).map(i -> SparkImportance.taskDevice("cpu")).collect();
            assertEquals(java.util.Set.of("cuda:0", "cuda:1"), new java.util.HashSet<>(devices), devices.toString());
        }
    }

    @Test
    void theJobRunsAcrossTwoWorkersAndEqualsOneProcess() throws Exception {
        SparkConf conf = conf();
        Path modelFile = SparkImportanceTest.cnnModel(Files.createTempDirectory("lethe-standalone-model"));
        try (JavaSparkContext sc = new JavaSparkContext(conf); Model model = Models.load(modelFile)) {
            Importance s = SparkImportance.of(Estimator.LABEL_FREE, 64).partitions(4).device("cpu")
                    .compute(sc, model, TrainingData.of("fashion-mnist", SAMPLES));
            assertEquals(SAMPLES, s.samples());
            assertEquals(16, s.count());
            String[] executors = s.details().get("executors").split(",");
            assertEquals(2, executors.length, "tasks ran in both executors: " + s.details());
            assertTrue(s.details().get("engine").contains(master), s.details().toString());

            Dataset train = DataSource.open("fashion-mnist", SAMPLES).train();
            int[] labels = train.labels();
            Importance one;
            try (VectorKernels k = new VectorKernels();
                 BatchStream b = BatchStream.all(train, labels, 64)) {
                one = new ImportanceEstimator(Estimator.LABEL_FREE, k, null).estimate(model, b, 0, "test",
                        new Provenance(model.fingerprint(), Estimator.LABEL_FREE, 64, "", "full", "file", ""));
            }
            SparkImportanceTest.assertClose(one, s, SparkImportanceTest.TOLERANCE);
        }
    }
}
