package ai.lethe.spark;

import java.io.IOException;
import java.io.Serializable;
import java.util.Locale;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkEnv;
import org.apache.spark.deploy.SparkHadoopUtil;

import ai.lethe.InvalidSettingException;
import ai.lethe.data.DataSource;
import ai.lethe.data.Dataset;

/**
 * The training split D as every executor opens it: named like {@code lethe fisher --data}, where the directory of
 * {@code idx:}, {@code npy:} and {@code safetensors:} may also be a Hadoop URI ({@code idx:hdfs://nn/fmnist},
 * {@code npy:s3a://bucket/data}, {@code safetensors:file:///shared/data}), read through Hadoop's FileSystem with
 * the job's Hadoop configuration ({@code spark.hadoop.*}). Plain paths are read with Lethe's readers directly and
 * must name the same files on every executor (a shared file system).
 */
public interface TrainingData extends Serializable {

    /** Opens the training split (on the driver, and in every task). */
    Dataset openTrain() throws IOException;

    /** What {@code --data} said, for messages. */
    String spec();

    /** {@code --data SPEC --train-limit N} (0 = all samples). */
    static TrainingData of(String spec, int trainLimit) {
        if (trainLimit < 0) {
            throw new InvalidSettingException("--train-limit must be positive, got " + trainLimit);
        }
        return new Spec(spec.strip(), trainLimit);
    }

    /** A --data spec; Hadoop URIs go through {@link HadoopNio}. */
    record Spec(String spec, int trainLimit) implements TrainingData {
        private static final long serialVersionUID = 1L;

        @Override
        public Dataset openTrain() throws IOException {
            int colon = spec.indexOf(':');
            String location = colon > 0 ? spec.substring(colon + 1) : "";
            if (colon > 0 && HadoopNio.isUri(location)) {
                String kind = spec.substring(0, colon).toLowerCase(Locale.ROOT);
                DataSource d = DataSource.open(spec, kind, HadoopNio.path(location, hadoopConfiguration()), location);
                return trainLimit > 0 ? d.train().limit(trainLimit) : d.train();
            }
            return DataSource.open(spec, trainLimit).train();
        }

        /** The job's Hadoop configuration (spark.hadoop.* applied) where Spark runs, else Hadoop's defaults. */
        private static Configuration hadoopConfiguration() {
            SparkEnv env = SparkEnv.get();
            return env == null ? new Configuration() : SparkHadoopUtil.get().newConfiguration(env.conf());
        }
    }
}
